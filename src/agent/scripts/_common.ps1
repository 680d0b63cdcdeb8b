#Requires -Version 5.1
# Shared by every cutover action script. Parameters arrive as one JSON document on stdin and the outcome leaves as
# one JSON document on stdout: user data is only ever data, never script text. Every string here is single-quoted.
# Version 1: uninitialised variables are errors. Not 2+: optional parameters and absent AD attributes must read as $null.
Set-StrictMode -Version 1.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$script:CutoverEntraConnectorId = 'b891884f-051e-4a83-95af-2544101c9083'
$script:CutoverZeroGuid = '00000000-0000-0000-0000-000000000000'

function Read-CutoverInput {
  $raw = [Console]::In.ReadToEnd()
  if ([string]::IsNullOrWhiteSpace($raw)) { throw 'no parameters on stdin' }
  return (ConvertFrom-Json -InputObject $raw)
}

function Stop-Cutover([string]$Code, [string]$Message) {
  $err = New-Object System.Management.Automation.ErrorRecord -ArgumentList (New-Object System.Exception -ArgumentList $Message), ('cutover:' + $Code), 'InvalidOperation', $null
  throw $err
}

function Write-CutoverResult($Result) {
  $out = [ordered]@{ ok = $true; result = $Result }
  [Console]::Out.Write((ConvertTo-Json -InputObject $out -Depth 12 -Compress))
  exit 0
}

function Write-CutoverError($ErrorRecord) {
  $code = 'failed'
  if ($ErrorRecord.FullyQualifiedErrorId -like 'cutover:*') { $code = $ErrorRecord.FullyQualifiedErrorId.Split(':')[1].Split(',')[0] }
  $out = [ordered]@{ ok = $false; error = [ordered]@{ code = $code; message = [string]$ErrorRecord.Exception.Message } }
  [Console]::Out.Write((ConvertTo-Json -InputObject $out -Depth 4 -Compress))
  exit 1
}

function ConvertTo-CutoverDate($Value) {
  if ($null -eq $Value) { return $null }
  return ([datetime]$Value).ToUniversalTime().ToString('o')
}

function ConvertTo-CutoverGuid($Value) {
  if ($null -eq $Value) { return $null }
  if ($Value -is [byte[]]) { return (New-Object System.Guid -ArgumentList (, $Value)).ToString() }
  return ([guid]$Value).ToString()
}

function Test-CutoverSyncBusy {
  # SyncCycleInProgress alone misses gaps between run steps; the connector run status alone misses them too.
  $scheduler = Get-ADSyncScheduler
  $running = @(Get-ADSyncConnectorRunStatus)
  return ([bool]$scheduler.SyncCycleInProgress -or $running.Count -gt 0)
}

function Wait-CutoverSyncIdle([int]$TimeoutSeconds) {
  $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
  while (Test-CutoverSyncBusy) {
    if ((Get-Date) -gt $deadline) { Stop-Cutover 'failed' 'the sync engine stayed busy past the timeout' }
    Start-Sleep -Seconds 10
  }
}

function Get-CutoverAdConnector {
  $connectors = @(Get-ADSyncConnector | Where-Object { $_.ConnectorTypeName -eq 'AD' })
  if ($connectors.Count -ne 1) { Stop-Cutover 'refused' ('expected exactly one AD connector, found ' + $connectors.Count) }
  return $connectors[0]
}

function ConvertTo-CutoverRule($Rule) {
  return [ordered]@{
    Identifier = ([guid]$Rule.Identifier).ToString()
    Name = [string]$Rule.Name
    Direction = [string]$Rule.Direction
    Precedence = [int]$Rule.Precedence
    Connector = ([guid]$Rule.Connector).ToString()
    LinkType = [string]$Rule.LinkType
    SourceObjectType = [string]$Rule.SourceObjectType
    TargetObjectType = [string]$Rule.TargetObjectType
    Disabled = [bool]$Rule.Disabled
    IsStandardRule = [bool]$Rule.IsStandardRule
    ScopeFilter = @(foreach ($g in @($Rule.ScopeFilter)) {
      [ordered]@{ ScopeConditionList = @(foreach ($c in @($g.ScopeConditionList)) {
        [ordered]@{ Attribute = [string]$c.Attribute; ComparisonValue = [string]$c.ComparisonValue; ComparisonOperator = [string]$c.ComparisonOperator }
      }) }
    })
    AttributeFlowMappings = @(foreach ($m in @($Rule.AttributeFlowMappings)) {
      [ordered]@{ Source = @(@($m.Source) | ForEach-Object { [string]$_ }); Destination = [string]$m.Destination; FlowType = [string]$m.FlowType; ValueMergeType = [string]$m.ValueMergeType }
    })
  }
}

# Creates the planned rules (identifiers, names, types and scope come from the agent's plan), idempotently:
# a rule whose Identifier already exists is reported as present; precedences are checked against every rule.
function New-CutoverRules($Plan, $RequestedPrecedence) {
  $existing = @(Get-ADSyncRule)
  $byId = @{}
  foreach ($r in $existing) { $byId[([guid]$r.Identifier).ToString()] = $r }
  $used = @{}
  foreach ($r in $existing) { $used[[int]$r.Precedence] = $true }
  $missing = @($Plan | Where-Object { -not $byId.ContainsKey($_.identifier) })
  $present = @($Plan | Where-Object { $byId.ContainsKey($_.identifier) })
  $precedences = @()
  if ($missing.Count -gt 0) {
    $starts = @()
    if ($null -ne $RequestedPrecedence -and $present.Count -eq 0) { $starts = @([int]$RequestedPrecedence) }
    else { $starts = @(0..99 | ForEach-Object { ($_ + 20) % 100 }) }
    foreach ($s in $starts) {
      $block = @($s..($s + $missing.Count - 1))
      if (($s + $missing.Count - 1) -le 99 -and -not ($block | Where-Object { $used.ContainsKey($_) })) { $precedences = $block; break }
    }
    if ($precedences.Count -eq 0) { Stop-Cutover 'conflict' 'the requested precedences are taken (or no free block in 0-99)' }
  }
  $adConnector = Get-CutoverAdConnector
  $i = 0
  foreach ($r in $missing) {
    $connectorId = $script:CutoverEntraConnectorId
    if ($r.connector -eq 'ad') { $connectorId = ([guid]$adConnector.Identifier).ToString() }
    $rule = New-ADSyncRule -Name $r.name -Identifier $r.identifier -Description 'Created by cutover (cloudNoFlow/JoinNoFlow coexistence with Cloud Sync)' `
      -Direction $r.direction -Precedence $precedences[$i] -PrecedenceAfter $script:CutoverZeroGuid -PrecedenceBefore $script:CutoverZeroGuid `
      -SourceObjectType $r.sourceObjectType -TargetObjectType $r.targetObjectType -Connector $connectorId -LinkType $r.linkType `
      -SoftDeleteExpiryInterval 0 -ImmutableTag ''
    if ($r.flowsCloudNoFlow) {
      $rule = Add-ADSyncAttributeFlowMapping -SynchronizationRule $rule -Source @('true') -Destination 'cloudNoFlow' -FlowType 'Constant' -ValueMergeType 'Update'
    }
    $conditions = @(foreach ($c in @($r.scope)) {
      New-Object -TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' -ArgumentList $c.attribute, $c.value, $c.operator
    })
    $rule = Add-ADSyncScopeConditionGroup -SynchronizationRule $rule -ScopeConditions $conditions
    Add-ADSyncRule -SynchronizationRule $rule | Out-Null
    $i++
  }
  $rules = @(foreach ($r in $Plan) {
    $have = Get-ADSyncRule -Identifier $r.identifier
    [ordered]@{
      identifier = $r.identifier; name = $r.name; direction = $r.direction; objectType = $r.objectType
      precedence = [int]$have.Precedence; connector = ([guid]$have.Connector).ToString()
      alreadyPresent = [bool]($present | Where-Object { $_.identifier -eq $r.identifier })
    }
  })
  return [ordered]@{ rules = $rules; created = $missing.Count; alreadyPresent = $present.Count }
}

# The class filters AD recommends (objectClass is not indexed; objectCategory is). Callers index this table
# with an allowlisted class name; parameter text never becomes a filter.
$script:CutoverClassFilters = @{
  user = '(&(objectCategory=person)(objectClass=user))'
  contact = '(&(objectCategory=person)(objectClass=contact))'
  group = '(objectCategory=group)'
}
