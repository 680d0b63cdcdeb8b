#Requires -Version 5.1
# Shared by every cutover action script. Parameters arrive as one JSON document on stdin and the outcome leaves as
# one JSON document on stdout: user data is only ever data, never script text. Every string here is single-quoted.
# Version 1: uninitialised variables are errors. Not 2+: optional parameters and absent AD attributes must read as $null.
Set-StrictMode -Version 1.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# UTF-8 both ways, without a BOM: Node writes UTF-8 to stdin, and Windows PowerShell 5.1 would otherwise decode it
# with the OEM code page and encode stdout with it too, so a DN such as OU=Société would not round-trip (review §2).
$script:CutoverUtf8 = New-Object System.Text.UTF8Encoding -ArgumentList $false
[Console]::InputEncoding = $script:CutoverUtf8
[Console]::OutputEncoding = $script:CutoverUtf8

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

# Get-ADSyncRunProfileResult StartDate/EndDate hold UTC with Kind Unspecified (no zone designator when serialised):
# SpecifyKind, never ToUniversalTime, which would shift them by the server's offset (review §2).
function ConvertFrom-CutoverRunDate($Value) {
  if ($null -eq $Value) { return $null }
  return ([datetime]::SpecifyKind([datetime]$Value, 'Utc')).ToString('o')
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

# Set-ADSyncSchedulerConnectorOverride (how-to-connect-sync-feature-scheduler.md): the connector runs a Full
# Synchronization at the next cycle, which is what makes changed sync rules take effect.
function Set-CutoverFullSyncRequired($Connector) {
  Set-ADSyncSchedulerConnectorOverride -ConnectorIdentifier ([guid]$Connector.Identifier) -FullSyncRequired $true | Out-Null
}

# The ADSync Windows service: Get-Service for the status, Win32_Service for the start mode ('Auto' is what
# Set-Service calls 'Automatic').
function Get-CutoverAdsyncService {
  $svc = Get-Service -Name 'ADSync'
  $cim = Get-CimInstance -ClassName 'Win32_Service' -Filter 'Name=''ADSync'''
  $mode = [string]$cim.StartMode
  if ($mode -eq 'Auto') { $mode = 'Automatic' }
  return [ordered]@{ status = [string]$svc.Status; startupType = $mode }
}

# Verifies that an OU exists and returns its DN exactly as AD stores it (a rule's dn ENDSWITH must match that text).
# With RSAT's ActiveDirectory module: Get-ADOrganizationalUnit. Without it (usual on Connect servers): ADSI
# (System.DirectoryServices.DirectoryEntry on LDAP://<dn>; '/' must be escaped in an ADsPath). Refuses when neither
# can verify the DN: there is no silent fallback to the caller's text.
function Resolve-CutoverOu([string]$Dn, [bool]$UseAdModule) {
  if ($UseAdModule) {
    try { return [string](Get-ADOrganizationalUnit -Identity $Dn).DistinguishedName }
    catch { Stop-Cutover 'not-found' ('OU ' + $Dn + ' could not be verified in Active Directory: ' + $_.Exception.Message) }
  }
  $stored = $null
  $classes = @()
  try {
    $entry = New-Object System.DirectoryServices.DirectoryEntry -ArgumentList ('LDAP://' + $Dn.Replace('/', '\/'))
    $classes = @($entry.Properties['objectClass'] | ForEach-Object { [string]$_ })
    $stored = [string]$entry.Properties['distinguishedName'].Value
  } catch { Stop-Cutover 'not-found' ('OU ' + $Dn + ' could not be verified through ADSI: ' + $_.Exception.Message) }
  if ([string]::IsNullOrEmpty($stored) -or $classes -notcontains 'organizationalUnit') { Stop-Cutover 'not-found' ('OU ' + $Dn + ' is not an organizational unit in Active Directory') }
  return $stored
}

# A connector's pending exports, as Microsoft's staging-server check reads them (how-to-connect-sync-staging-server.md,
# "Verify"): csexport "<connector name>" <file> /f:x writes them as XML, cs-object elements (cs-dn, object-type) with
# unapplied-export/delta/@operation (add, update, replace or delete; replace is reported as update) and the synchronized
# hologram (entry/attr/value: the attributes as last synchronized). Writes one object per pending export to the
# pipeline as it reads the file, { csDn; objectType; operation; adminDescription (the hologram's, else $null) }, with an
# XmlReader (a staging server can hold hundreds of thousands), and removes the file.
function Get-CutoverPendingExports([string]$ConnectorName) {
  $csexport = 'C:\Program Files\Microsoft Azure AD Sync\Bin\csexport.exe'
  if (-not (Test-Path -LiteralPath $csexport)) { Stop-Cutover 'failed' ('csexport.exe not found at ' + $csexport + ': cannot read pending exports') }
  $file = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-csexport-' + [guid]::NewGuid().ToString() + '.xml')
  try {
    & 'C:\Program Files\Microsoft Azure AD Sync\Bin\csexport.exe' $ConnectorName $file '/f:x' | Out-Null
    if ($LASTEXITCODE -ne 0) { Stop-Cutover 'failed' ('csexport.exe exited ' + $LASTEXITCODE) }
    $settings = New-Object System.Xml.XmlReaderSettings
    $settings.IgnoreWhitespace = $true
    $reader = [System.Xml.XmlReader]::Create($file, $settings)
    try {
      [void]$reader.MoveToContent()
      while (-not $reader.EOF) {
        # ReadOuterXml leaves the reader on the node after the element, often the next cs-object: reading on from there
        # (Read, ReadToFollowing) would skip it, so only a node that is not a cs-object is stepped over.
        if ($reader.NodeType -ne [System.Xml.XmlNodeType]::Element -or $reader.LocalName -ne 'cs-object') { [void]$reader.Read(); continue }
        $cs = ([xml]$reader.ReadOuterXml()).DocumentElement
        $delta = $cs.SelectSingleNode('unapplied-export/delta')
        if ($null -eq $delta) { continue }
        $op = [string]$delta.GetAttribute('operation')
        if ($op -ne 'add' -and $op -ne 'delete') { $op = 'update' }
        $admin = $cs.SelectSingleNode('synchronized-hologram/entry/attr[@name=''adminDescription'']/value')
        $adminText = $null
        if ($null -ne $admin) { $adminText = [string]$admin.InnerText }
        [pscustomobject][ordered]@{ csDn = [string]$cs.GetAttribute('cs-dn'); objectType = [string]$cs.GetAttribute('object-type'); operation = $op; adminDescription = $adminText }
      }
    } finally { $reader.Close() }
  } finally { if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force } }
}

# A rule's scope as one comparable string: groups in order, conditions in order (attribute|value|operator).
function Get-CutoverScopeKey($Groups, [bool]$FromPlan) {
  $parts = @(foreach ($g in @($Groups)) {
    $conds = @()
    if ($FromPlan) { $conds = @($g) } else { $conds = @($g.ScopeConditionList) }
    (@(foreach ($c in $conds) {
      if ($FromPlan) { [string]$c.attribute + '|' + [string]$c.value + '|' + [string]$c.operator }
      else { [string]$c.Attribute + '|' + [string]$c.ComparisonValue + '|' + [string]$c.ComparisonOperator }
    }) -join ';')
  })
  return ($parts -join '||')
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
# a rule whose Identifier exists with the same name, link type and scope is reported as present; one that differs
# is updated in place when $UpdateInPlace (Remove-ADSyncRule, then Add-ADSyncRule with the same identifier and
# precedence), else refused. New rules get a free consecutive block of precedences in 0-99.
function New-CutoverRules($Plan, $RequestedPrecedence, [bool]$UpdateInPlace) {
  $existing = @(Get-ADSyncRule)
  $byId = @{}
  foreach ($r in $existing) { $byId[([guid]$r.Identifier).ToString()] = $r }
  $used = @{}
  foreach ($r in $existing) { $used[[int]$r.Precedence] = $true }
  $missing = @($Plan | Where-Object { -not $byId.ContainsKey($_.identifier) })
  $present = @($Plan | Where-Object { $byId.ContainsKey($_.identifier) })
  $changed = @{}
  foreach ($r in $present) {
    $have = $byId[$r.identifier]
    $same = ([string]$have.Name -ceq [string]$r.name) -and ([string]$have.LinkType -eq [string]$r.linkType) -and `
      ((Get-CutoverScopeKey $have.ScopeFilter $false) -ceq (Get-CutoverScopeKey $r.scope $true))
    if (-not $same) {
      if (-not $UpdateInPlace) { Stop-Cutover 'conflict' ('rule ' + $r.identifier + ' exists with a different definition; remove it first (rollback) to re-create') }
      $changed[$r.identifier] = [int]$have.Precedence
    }
  }
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
  $work = @()
  foreach ($r in $present) { if ($changed.ContainsKey($r.identifier)) { $work += ,@($r, $changed[$r.identifier], $true) } }
  $i = 0
  foreach ($r in $missing) { $work += ,@($r, $precedences[$i], $false); $i++ }
  foreach ($w in $work) {
    $r = $w[0]
    if ($w[2]) { Remove-ADSyncRule -SynchronizationRule $byId[$r.identifier] | Out-Null }
    $connectorId = $script:CutoverEntraConnectorId
    if ($r.connector -eq 'ad') { $connectorId = ([guid]$adConnector.Identifier).ToString() }
    $rule = New-ADSyncRule -Name $r.name -Identifier $r.identifier -Description 'Created by cutover (cloudNoFlow/JoinNoFlow coexistence with Cloud Sync)' `
      -Direction $r.direction -Precedence ([int]$w[1]) -PrecedenceAfter $script:CutoverZeroGuid -PrecedenceBefore $script:CutoverZeroGuid `
      -SourceObjectType $r.sourceObjectType -TargetObjectType $r.targetObjectType -Connector $connectorId -LinkType $r.linkType `
      -SoftDeleteExpiryInterval 0 -ImmutableTag ''
    if ($r.flowsCloudNoFlow) {
      $rule = Add-ADSyncAttributeFlowMapping -SynchronizationRule $rule -Source @('true') -Destination 'cloudNoFlow' -FlowType 'Constant' -ValueMergeType 'Update'
    }
    # One scope condition group per entry: groups are ORed, conditions inside a group ANDed.
    foreach ($g in @($r.scope)) {
      $conditions = @(foreach ($c in @($g)) {
        New-Object -TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' -ArgumentList $c.attribute, $c.value, $c.operator
      })
      $rule = Add-ADSyncScopeConditionGroup -SynchronizationRule $rule -ScopeConditions $conditions
    }
    Add-ADSyncRule -SynchronizationRule $rule | Out-Null
  }
  $rules = @(foreach ($r in $Plan) {
    $have = Get-ADSyncRule -Identifier $r.identifier
    $wasPresent = [bool]($present | Where-Object { $_.identifier -eq $r.identifier })
    [ordered]@{
      identifier = $r.identifier; name = $r.name; direction = $r.direction; objectType = $r.objectType
      precedence = [int]$have.Precedence; connector = ([guid]$have.Connector).ToString()
      alreadyPresent = ($wasPresent -and -not $changed.ContainsKey($r.identifier)); updated = $changed.ContainsKey($r.identifier)
    }
  })
  return [ordered]@{ rules = $rules; created = $missing.Count; updated = $changed.Count; alreadyPresent = ($present.Count - $changed.Count) }
}

# The class filters AD recommends (objectClass is not indexed; objectCategory is). Callers index this table
# with an allowlisted class name; parameter text never becomes a filter.
$script:CutoverClassFilters = @{
  user = '(&(objectCategory=person)(objectClass=user))'
  contact = '(&(objectCategory=person)(objectClass=contact))'
  group = '(objectCategory=group)'
}
