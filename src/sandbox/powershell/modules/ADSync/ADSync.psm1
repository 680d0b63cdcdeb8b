# The cutover sandbox's ADSync module: the Entra Connect Sync cmdlets the action scripts use, with the parameters
# Microsoft documents for each (names, types, mandatory ones, the accepted values of enum parameters), so that a call
# with a wrong or missing parameter fails here as it fails on a Connect server. Each call is carried out by the
# sandbox's simulated Connect server (SandboxBackend.ps1 → src/sandbox/powershell/adsync-cmdlets.ts).
#
# Sources, cited per cmdlet below:
#   [REF]  MicrosoftDocs/entra-docs docs/identity/hybrid/connect/reference-connect-adsync.md (the ADSync reference:
#          SYNTAX and PARAMETERS tables: type, Required, Position, Accepted values)
#   [SCH]  …/connect/how-to-connect-sync-feature-scheduler.md       [GWB] …/cloud-sync/migrate-group-writeback.md
#   [DEC]  …/connect/concept-azure-ad-connect-sync-declarative-provisioning.md (flow types, merge types, operators)
#   [UPG]  …/connect/how-to-upgrade-previous-version.md            [PHS] …/connect/tshoot-connect-password-hash-synchronization.md
#   [STG]  …/connect/how-to-connect-sync-staging-server.md (csexport)  [SSPR] …/authentication/tutorial-enable-sspr-writeback.md
#   (3p)   a public script, named where used. Where no source gives a parameter's position or whether it is mandatory,
#          it is named-only and optional (the reading that accepts fewest calls), and the comment says so.
# The object model types carry Microsoft's full names as type accelerators (Microsoft.IdentityManagement.PowerShell.
# ObjectModel.*), so `New-Object -TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition'` works
# as in Microsoft's scripts. The enum type names are this module's; their values are the documented ones.

Set-StrictMode -Version 1.0
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'SandboxBackend.ps1')
Import-Module (Join-Path (Split-Path -Parent $PSScriptRoot) 'SandboxWindowsHost') -Global

# [REF] Set-ADSyncScheduler / Start-ADSyncSyncCycle: "Accepted values: Unspecified, Delta, Initial".
enum SynchronizationPolicyType { Unspecified = 0; Delta = 1; Initial = 2 }
# [GWB] New-ADSyncRule -Direction 'Inbound' | 'Outbound'.
enum SynchronizationRuleDirection { Inbound = 0; Outbound = 1 }
# [DEC] link types Join, Provision, StickyJoin; [GWB] JoinNoFlow.
enum SynchronizationRuleLinkType { Provision = 0; Join = 1; StickyJoin = 2; JoinNoFlow = 3 }
# [DEC] scoping operators.
enum ComparisonOperator {
  EQUAL; NOTEQUAL; LESSTHAN; LESSTHAN_OR_EQUAL; CONTAINS; NOTCONTAINS; STARTSWITH; NOTSTARTSWITH; ENDSWITH; NOTENDSWITH
  GREATERTHAN; GREATERTHAN_OR_EQUAL; ISNULL; ISNOTNULL; ISIN; ISNOTIN; ISBITSET; ISNOTBITSET; ISMEMBEROF; ISNOTMEMBEROF
}
# [DEC] "FlowType … Direct, Constant, Expression"; merge types Update, Merge, MergeCaseInsensitive ("Replace is the
# same as Update, but it isn't used").
enum AttributeFlowType { Direct = 0; Constant = 1; Expression = 2 }
enum AttributeValueMergeType { Update = 0; Merge = 1; MergeCaseInsensitive = 2; Replace = 3 }

# [GWB] New-Object … ScopeCondition -ArgumentList '<attribute>','<value>','<OPERATOR>' (attribute, value, operator).
class ScopeCondition {
  [string] $Attribute
  [string] $ComparisonValue
  [ComparisonOperator] $ComparisonOperator
  ScopeCondition([string] $attribute, [string] $comparisonValue, [ComparisonOperator] $comparisonOperator) {
    $this.Attribute = $attribute; $this.ComparisonValue = $comparisonValue; $this.ComparisonOperator = $comparisonOperator
  }
}
class ScopeConditionGroup {
  [System.Collections.Generic.List[ScopeCondition]] $ScopeConditionList = [System.Collections.Generic.List[ScopeCondition]]::new()
}
# (3p) mbendana/ADConnect Export-CustomRule.ps1: JoinCondition -ArgumentList '<CSAttribute>','<MVAttribute>',$false.
class JoinCondition {
  [string] $CSAttribute
  [string] $MVAttribute
  [bool] $CaseSensitive
  JoinCondition([string] $csAttribute, [string] $mvAttribute, [bool] $caseSensitive) {
    $this.CSAttribute = $csAttribute; $this.MVAttribute = $mvAttribute; $this.CaseSensitive = $caseSensitive
  }
}
class JoinConditionGroup {
  [System.Collections.Generic.List[JoinCondition]] $JoinConditionList = [System.Collections.Generic.List[JoinCondition]]::new()
}
class AttributeFlowMapping {
  [string[]] $Source
  [string] $Destination
  [AttributeFlowType] $FlowType
  [AttributeValueMergeType] $ValueMergeType
  [string] $Expression
  [bool] $ExecuteOnce
}
# Get-ADSyncRule's properties as exporters read them ((3p) mbendana Export-CustomRule.ps1).
class SynchronizationRule {
  [guid] $Identifier
  [string] $Name
  [string] $Description
  [SynchronizationRuleDirection] $Direction
  [int] $Precedence
  [guid] $PrecedenceAfter
  [guid] $PrecedenceBefore
  [guid] $Connector
  [string] $SourceObjectType
  [string] $TargetObjectType
  [SynchronizationRuleLinkType] $LinkType
  [bool] $Disabled
  [bool] $IsStandardRule
  [string] $ImmutableTag
  [timespan] $SoftDeleteExpiryInterval
  [bool] $EnablePasswordSync
  [System.Collections.Generic.List[ScopeConditionGroup]] $ScopeFilter = [System.Collections.Generic.List[ScopeConditionGroup]]::new()
  [System.Collections.Generic.List[JoinConditionGroup]] $JoinFilter = [System.Collections.Generic.List[JoinConditionGroup]]::new()
  [System.Collections.Generic.List[AttributeFlowMapping]] $AttributeFlowMappings = [System.Collections.Generic.List[AttributeFlowMapping]]::new()
}

$accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
foreach ($t in @([ScopeCondition], [ScopeConditionGroup], [JoinCondition], [JoinConditionGroup], [AttributeFlowMapping], [SynchronizationRule], [SynchronizationPolicyType])) {
  $full = 'Microsoft.IdentityManagement.PowerShell.ObjectModel.' + $t.Name
  if (-not $accelerators::Get.ContainsKey($full)) { $accelerators::Add($full, $t) }
}

function ConvertTo-SandboxRule([SynchronizationRule] $Rule) {
  return [ordered]@{
    Identifier = $Rule.Identifier.ToString(); Name = $Rule.Name; Description = $Rule.Description; Direction = $Rule.Direction.ToString()
    Precedence = $Rule.Precedence; Connector = $Rule.Connector.ToString(); SourceObjectType = $Rule.SourceObjectType; TargetObjectType = $Rule.TargetObjectType
    LinkType = $Rule.LinkType.ToString(); Disabled = $Rule.Disabled; ImmutableTag = $Rule.ImmutableTag
    ScopeFilter = @(foreach ($g in $Rule.ScopeFilter) { [ordered]@{ ScopeConditionList = @(foreach ($c in $g.ScopeConditionList) { [ordered]@{ Attribute = $c.Attribute; ComparisonValue = $c.ComparisonValue; ComparisonOperator = $c.ComparisonOperator.ToString() } }) } })
    AttributeFlowMappings = @(foreach ($m in $Rule.AttributeFlowMappings) { [ordered]@{ Source = @($m.Source); Destination = $m.Destination; FlowType = $m.FlowType.ToString(); ValueMergeType = $m.ValueMergeType.ToString(); Expression = $m.Expression } })
  }
}

function ConvertFrom-SandboxRule($Json) {
  $r = [SynchronizationRule]::new()
  foreach ($p in @('Identifier', 'Name', 'Description', 'Direction', 'Precedence', 'PrecedenceAfter', 'PrecedenceBefore', 'Connector', 'SourceObjectType', 'TargetObjectType', 'LinkType', 'Disabled', 'IsStandardRule', 'ImmutableTag')) {
    if ($null -ne $Json[$p]) { $r.$p = $Json[$p] }
  }
  foreach ($g in @($Json['ScopeFilter'])) {
    if ($null -eq $g) { continue }
    $group = [ScopeConditionGroup]::new()
    foreach ($c in @($g['ScopeConditionList'])) { $group.ScopeConditionList.Add([ScopeCondition]::new($c['Attribute'], $c['ComparisonValue'], $c['ComparisonOperator'])) }
    $r.ScopeFilter.Add($group)
  }
  foreach ($m in @($Json['AttributeFlowMappings'])) {
    if ($null -eq $m) { continue }
    $map = [AttributeFlowMapping]::new()
    $map.Source = [string[]]@($m['Source']); $map.Destination = $m['Destination']; $map.FlowType = $m['FlowType']; $map.ValueMergeType = $m['ValueMergeType']; $map.Expression = $m['Expression']
    $r.AttributeFlowMappings.Add($map)
  }
  return $r
}

# ---------------------------------------------------------------------------------------------- scheduler and cycles

# [REF] Get-ADSyncScheduler [<CommonParameters>]
function Get-ADSyncScheduler {
  [CmdletBinding(PositionalBinding = $false)]
  param()
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncScheduler' $PSBoundParameters $PSCmdlet)
}

# [REF] Set-ADSyncScheduler [[-CustomizedSyncCycleInterval] <TimeSpan>] [[-SyncCycleEnabled] <Boolean>]
#   [[-NextSyncCyclePolicyType] <SynchronizationPolicyType>] [[-PurgeRunHistoryInterval] <TimeSpan>]
#   [[-MaintenanceEnabled] <Boolean>] [[-SchedulerSuspended] <Boolean>] [-Force]   (positions 0-6; INPUTS Nullable<…>)
# No -Confirm/-WhatIf: adding -Confirm:$false fails with "A parameter cannot be found" (review 2026-12 §2).
function Set-ADSyncScheduler {
  [CmdletBinding(PositionalBinding = $false)]
  param(
    [Parameter(Position = 0, ValueFromPipeline = $true)] [Nullable[timespan]] $CustomizedSyncCycleInterval,
    [Parameter(Position = 1, ValueFromPipeline = $true)] [Nullable[bool]] $SyncCycleEnabled,
    [Parameter(Position = 2, ValueFromPipeline = $true)] [Nullable[SynchronizationPolicyType]] $NextSyncCyclePolicyType,
    [Parameter(Position = 3, ValueFromPipeline = $true)] [Nullable[timespan]] $PurgeRunHistoryInterval,
    [Parameter(Position = 4, ValueFromPipeline = $true)] [Nullable[bool]] $MaintenanceEnabled,
    [Parameter(Position = 5, ValueFromPipeline = $true)] [Nullable[bool]] $SchedulerSuspended,
    [Parameter(Position = 6, ValueFromPipeline = $true)] [switch] $Force
  )
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Set-ADSyncScheduler' $PSBoundParameters $PSCmdlet)
}

# [REF] Start-ADSyncSyncCycle [[-PolicyType] <SynchronizationPolicyType>] [[-InteractiveMode] <Boolean>] (positions 1, 2)
function Start-ADSyncSyncCycle {
  [CmdletBinding(PositionalBinding = $false)]
  param(
    [Parameter(Position = 1, ValueFromPipeline = $true)] [Nullable[SynchronizationPolicyType]] $PolicyType,
    [Parameter(Position = 2, ValueFromPipeline = $true)] [bool] $InteractiveMode
  )
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Start-ADSyncSyncCycle' $PSBoundParameters $PSCmdlet)
}

# [SCH] Get-ADSyncConnectorRunStatus: "returns an empty result if the sync engine is idle"; no parameters documented.
function Get-ADSyncConnectorRunStatus {
  [CmdletBinding(PositionalBinding = $false)]
  param()
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncConnectorRunStatus' $PSBoundParameters $PSCmdlet)
}

# [REF] Get-ADSyncRunProfileResult [-RunHistoryId <Guid>] [-ConnectorId <Guid>] [-RunProfileId <Guid>] [-RunNumber <Int32>]
#   [-NumberRequested <Int32>] [-RunStepDetails] [-StepNumber <Int32>] [-WhatIf] [-Confirm]   (all named)
function Get-ADSyncRunProfileResult {
  [CmdletBinding(PositionalBinding = $false, SupportsShouldProcess = $true)]
  param(
    [guid] $RunHistoryId,
    [guid] $ConnectorId,
    [guid] $RunProfileId,
    [int] $RunNumber,
    [int] $NumberRequested,
    [switch] $RunStepDetails,
    [int] $StepNumber
  )
  if (-not $PSCmdlet.ShouldProcess('run history', 'Get-ADSyncRunProfileResult')) { return }
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncRunProfileResult' $PSBoundParameters $PSCmdlet)
}

# [REF] Set-ADSyncSchedulerConnectorOverride -ConnectorIdentifier <Guid> | -ConnectorName <String>
#   [-FullImportRequired <Boolean>] [-FullSyncRequired <Boolean>]   (connector: Required True, named)
function Set-ADSyncSchedulerConnectorOverride {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'ConnectorIdentifier')]
  param(
    [Parameter(Mandatory = $true, ParameterSetName = 'ConnectorIdentifier', ValueFromPipeline = $true)] [guid] $ConnectorIdentifier,
    [Parameter(Mandatory = $true, ParameterSetName = 'ConnectorName', ValueFromPipeline = $true)] [string] $ConnectorName,
    [Nullable[bool]] $FullImportRequired,
    [Nullable[bool]] $FullSyncRequired
  )
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Set-ADSyncSchedulerConnectorOverride' $PSBoundParameters $PSCmdlet)
}

# [REF] Get-ADSyncSchedulerConnectorOverride [-ConnectorIdentifier <Guid>] [-ConnectorName <String>]
function Get-ADSyncSchedulerConnectorOverride {
  [CmdletBinding(PositionalBinding = $false)]
  param([guid] $ConnectorIdentifier, [string] $ConnectorName)
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncSchedulerConnectorOverride' $PSBoundParameters $PSCmdlet)
}

# ---------------------------------------------------------------------------------------------- connectors

# Not in [REF]. [GWB] Get-ADSyncConnector -Name "Contoso.com"; [UPG] Get-ADSyncConnector -Identifier <guid> ("Operation
# failed because the specified MA could not be found."); [PHS] Get-ADSyncConnector with no argument. Positions unknown:
# named only.
function Get-ADSyncConnector {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'All')]
  param(
    [Parameter(Mandatory = $true, ParameterSetName = 'ByName')] [string] $Name,
    [Parameter(Mandatory = $true, ParameterSetName = 'ByIdentifier')] [guid] $Identifier
  )
  foreach ($c in @(Invoke-SandboxCmdlet 'Get-ADSyncConnector' $PSBoundParameters $PSCmdlet)) {
    $o = ConvertFrom-SandboxValue $c
    # GlobalParameters is a collection indexed by parameter name: $c.GlobalParameters['Connector.GroupFilteringGroupDn'].Value
    $gp = [System.Collections.Generic.Dictionary[string, object]]::new([System.StringComparer]::OrdinalIgnoreCase)
    foreach ($k in $c['GlobalParameters'].Keys) { $gp[[string]$k] = ConvertFrom-SandboxValue $c['GlobalParameters'][$k] }
    $o.GlobalParameters = $gp
    $o
  }
}

# ---------------------------------------------------------------------------------------------- sync rules

# Not in [REF]. [GWB] Get-ADSyncRule -Identifier '<guid>'; without arguments, every rule ((3p) Export-CustomRule.ps1).
function Get-ADSyncRule {
  [CmdletBinding(PositionalBinding = $false)]
  param([guid] $Identifier)
  $out = Invoke-SandboxCmdlet 'Get-ADSyncRule' $PSBoundParameters $PSCmdlet
  foreach ($r in @($out)) { if ($null -ne $r) { ConvertFrom-SandboxRule $r } }
}

# Not in [REF]. [GWB] New-ADSyncRule -Name -Identifier -Description -Direction -Precedence -PrecedenceAfter
# -PrecedenceBefore -SourceObjectType -TargetObjectType -Connector -LinkType -SoftDeleteExpiryInterval -ImmutableTag;
# -Disabled, -EnablePasswordSync from rule exports ((3p) mbendana Export-CustomRule.ps1). Which are mandatory is not
# published: Name, Direction, SourceObjectType, TargetObjectType, Connector and LinkType are (a rule needs them); the
# Identifier is generated when absent. Builds the rule in memory only: Add-ADSyncRule commits it ((3p) integrationtrench).
function New-ADSyncRule {
  [CmdletBinding(PositionalBinding = $false)]
  param(
    [Parameter(Mandatory = $true)] [string] $Name,
    [guid] $Identifier = [guid]::NewGuid(),
    [string] $Description,
    [Parameter(Mandatory = $true)] [SynchronizationRuleDirection] $Direction,
    [int] $Precedence,
    [guid] $PrecedenceAfter = [guid]::Empty,
    [guid] $PrecedenceBefore = [guid]::Empty,
    [Parameter(Mandatory = $true)] [string] $SourceObjectType,
    [Parameter(Mandatory = $true)] [string] $TargetObjectType,
    [Parameter(Mandatory = $true)] [guid] $Connector,
    [Parameter(Mandatory = $true)] [SynchronizationRuleLinkType] $LinkType,
    [timespan] $SoftDeleteExpiryInterval = [timespan]::Zero,
    [string] $ImmutableTag,
    [switch] $Disabled,
    [switch] $EnablePasswordSync
  )
  $r = [SynchronizationRule]::new()
  $r.Identifier = $Identifier; $r.Name = $Name; $r.Description = $Description; $r.Direction = $Direction; $r.Precedence = $Precedence
  $r.PrecedenceAfter = $PrecedenceAfter; $r.PrecedenceBefore = $PrecedenceBefore; $r.SourceObjectType = $SourceObjectType
  $r.TargetObjectType = $TargetObjectType; $r.Connector = $Connector; $r.LinkType = $LinkType; $r.SoftDeleteExpiryInterval = $SoftDeleteExpiryInterval
  $r.ImmutableTag = $ImmutableTag; $r.Disabled = $Disabled.IsPresent; $r.EnablePasswordSync = $EnablePasswordSync.IsPresent
  return $r
}

# Not in [REF]. [GWB] Add-ADSyncAttributeFlowMapping -SynchronizationRule $syncRule[0] -Source @('true') -Destination
# 'cloudNoFlow' -FlowType 'Constant' -ValueMergeType 'Update'; -Expression, -ExecuteOnce from exports (3p). Writes the rule.
function Add-ADSyncAttributeFlowMapping {
  [CmdletBinding(PositionalBinding = $false)]
  param(
    [Parameter(Mandatory = $true)] [SynchronizationRule] $SynchronizationRule,
    [string[]] $Source,
    [Parameter(Mandatory = $true)] [string] $Destination,
    [Parameter(Mandatory = $true)] [AttributeFlowType] $FlowType,
    [AttributeValueMergeType] $ValueMergeType = [AttributeValueMergeType]::Update,
    [string] $Expression,
    [switch] $ExecuteOnce
  )
  $m = [AttributeFlowMapping]::new()
  $m.Source = $Source; $m.Destination = $Destination; $m.FlowType = $FlowType; $m.ValueMergeType = $ValueMergeType; $m.Expression = $Expression; $m.ExecuteOnce = $ExecuteOnce.IsPresent
  $SynchronizationRule.AttributeFlowMappings.Add($m)
  return $SynchronizationRule
}

# Not in [REF]. [GWB] Add-ADSyncScopeConditionGroup -SynchronizationRule $syncRule[0] -ScopeConditions @($condition0[0], …).
# Conditions in one group are ANDed, groups ORed [DEC]. Writes the rule.
function Add-ADSyncScopeConditionGroup {
  [CmdletBinding(PositionalBinding = $false)]
  param(
    [Parameter(Mandatory = $true)] [SynchronizationRule] $SynchronizationRule,
    [Parameter(Mandatory = $true)] [ScopeCondition[]] $ScopeConditions
  )
  $g = [ScopeConditionGroup]::new()
  foreach ($c in $ScopeConditions) { $g.ScopeConditionList.Add($c) }
  $SynchronizationRule.ScopeFilter.Add($g)
  return $SynchronizationRule
}

# Not in [REF]. [GWB] Add-ADSyncRule -SynchronizationRule $syncRule[0]: commits the rule to the server.
function Add-ADSyncRule {
  [CmdletBinding(PositionalBinding = $false)]
  param([Parameter(Mandatory = $true, ValueFromPipeline = $true)] [SynchronizationRule] $SynchronizationRule)
  process {
    $out = Invoke-SandboxCmdlet 'Add-ADSyncRule' @{ SynchronizationRule = (ConvertTo-SandboxRule $SynchronizationRule) } $PSCmdlet
    foreach ($r in @($out)) { ConvertFrom-SandboxRule $r }
  }
}

# Not in [REF]. Remove-ADSyncRule -SynchronizationRule $rule ((3p) microsoft/AADConnectConfigDocumenter), by pipeline
# ((3p) integrationtrench), or -Identifier <guid> ((3p) DSC modules).
function Remove-ADSyncRule {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'SynchronizationRule')]
  param(
    [Parameter(Mandatory = $true, ParameterSetName = 'SynchronizationRule', ValueFromPipeline = $true)] [SynchronizationRule] $SynchronizationRule,
    [Parameter(Mandatory = $true, ParameterSetName = 'Identifier')] [guid] $Identifier
  )
  process {
    $id = if ($PSCmdlet.ParameterSetName -eq 'Identifier') { $Identifier } else { $SynchronizationRule.Identifier }
    Write-SandboxOutput (Invoke-SandboxCmdlet 'Remove-ADSyncRule' @{ Identifier = $id } $PSCmdlet)
  }
}

# ---------------------------------------------------------------------------------------------- features, threshold, configuration

# [PHS] Get-ADSyncAADCompanyFeature (no argument in the current doc; older builds took -ConnectorName <Entra connector>).
function Get-ADSyncAADCompanyFeature {
  [CmdletBinding(PositionalBinding = $false)]
  param([string] $ConnectorName)
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncAADCompanyFeature' $PSBoundParameters $PSCmdlet)
}

# [GWB] Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false (irreversible); -ForcePasswordChangeOnLogOn $true
# (how-to-connect-password-hash-synchronization.md); -PasswordHashSync. Booleans, named.
function Set-ADSyncAADCompanyFeature {
  [CmdletBinding(PositionalBinding = $false)]
  param(
    [string] $ConnectorName,
    [Nullable[bool]] $PasswordHashSync,
    [Nullable[bool]] $ForcePasswordChangeOnLogOn,
    [Nullable[bool]] $GroupWritebackV2
  )
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Set-ADSyncAADCompanyFeature' $PSBoundParameters $PSCmdlet)
}

# [SSPR] Get-ADSyncAADPasswordResetConfiguration -Connector <Entra connector name> (.Enabled).
function Get-ADSyncAADPasswordResetConfiguration {
  [CmdletBinding(PositionalBinding = $false)]
  param([Parameter(Mandatory = $true)] [string] $Connector)
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncAADPasswordResetConfiguration' $PSBoundParameters $PSCmdlet)
}

# [REF] Get-ADSyncExportDeletionThreshold [-AADUserName] <string> [-WhatIf] [-Confirm]  (AADUserName: Required True,
# Position 1). Without it PowerShell refuses the call (under -NonInteractive: "missing mandatory parameters: AADUserName").
function Get-ADSyncExportDeletionThreshold {
  [CmdletBinding(PositionalBinding = $false, SupportsShouldProcess = $true)]
  param([Parameter(Mandatory = $true, Position = 1, ValueFromPipelineByPropertyName = $true)] [string] $AADUserName)
  if (-not $PSCmdlet.ShouldProcess($AADUserName, 'Get-ADSyncExportDeletionThreshold')) { return }
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncExportDeletionThreshold' $PSBoundParameters $PSCmdlet)
}

# Not in [REF]. microsoft/AADConnectConfigDocumenter README: Get-ADSyncServerConfiguration -Path "<folder>". Writes
# Connectors\, GlobalSettings\ and SynchronizationRules\ under -Path.
function Get-ADSyncServerConfiguration {
  [CmdletBinding(PositionalBinding = $false)]
  param([Parameter(Mandatory = $true)] [string] $Path)
  $out = Invoke-SandboxCmdlet 'Get-ADSyncServerConfiguration' @{ Path = $Path } $PSCmdlet
  foreach ($f in @($out['files'])) {
    $target = Join-Path $Path ([string]$f['path'])
    $dir = Split-Path -Parent $target
    if (-not (Test-Path -LiteralPath $dir)) { New-Item -ItemType Directory -Path $dir -Force | Out-Null }
    [System.IO.File]::WriteAllText($target, [string]$f['content'], (New-Object System.Text.UTF8Encoding -ArgumentList $false))
  }
}

# ---------------------------------------------------------------------------------------------- connector space and metaverse

# [REF] Get-ADSyncCSObject, five parameter sets: [-Identifier] <Guid>; [-ConnectorIdentifier] <Guid> [-DistinguishedName]
# <String> [-SkipDNValidation] [-Transient]; [-ConnectorIdentifier] <Guid> [-Transient] [-StartIndex] [-MaxResultCount];
# and the same two by [-ConnectorName] <String>. (Positions 0 and 1.)
function Get-ADSyncCSObject {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'SearchByConnectorIdentifierDistinguishedName')]
  param(
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'SearchByIdentifier')] [guid] $Identifier,
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'SearchByConnectorIdentifierDistinguishedName')]
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'SearchByConnectorIdentifier')] [guid] $ConnectorIdentifier,
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'SearchByConnectorNameDistinguishedName')]
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'SearchByConnectorName')] [string] $ConnectorName,
    [Parameter(Mandatory = $true, Position = 1, ParameterSetName = 'SearchByConnectorIdentifierDistinguishedName')]
    [Parameter(Mandatory = $true, Position = 1, ParameterSetName = 'SearchByConnectorNameDistinguishedName')] [string] $DistinguishedName,
    [Parameter(ParameterSetName = 'SearchByConnectorIdentifierDistinguishedName')]
    [Parameter(ParameterSetName = 'SearchByConnectorNameDistinguishedName')] [switch] $SkipDNValidation,
    [Parameter(ParameterSetName = 'SearchByConnectorIdentifierDistinguishedName')]
    [Parameter(ParameterSetName = 'SearchByConnectorIdentifier')]
    [Parameter(ParameterSetName = 'SearchByConnectorNameDistinguishedName')]
    [Parameter(ParameterSetName = 'SearchByConnectorName')] [switch] $Transient,
    [Parameter(ParameterSetName = 'SearchByConnectorIdentifier')]
    [Parameter(ParameterSetName = 'SearchByConnectorName')] [int] $StartIndex,
    [Parameter(ParameterSetName = 'SearchByConnectorIdentifier')]
    [Parameter(ParameterSetName = 'SearchByConnectorName')] [int] $MaxResultCount
  )
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncCSObject' $PSBoundParameters $PSCmdlet)
}

# [REF] Get-ADSyncMVObject -Identifier <Guid>  (Required True, Position Named)
function Get-ADSyncMVObject {
  [CmdletBinding(PositionalBinding = $false)]
  param([Parameter(Mandatory = $true)] [guid] $Identifier)
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-ADSyncMVObject' $PSBoundParameters $PSCmdlet)
}

# ---------------------------------------------------------------------------------------------- csexport.exe

# [STG] csexport "<connector name>" <file> /f:x writes the connector's pending exports as XML. A native tool, not a
# cmdlet: it takes raw arguments and reports through its exit code ($LASTEXITCODE). Reached through the alias
# 'C:\Program Files\Microsoft Azure AD Sync\Bin\csexport.exe' that SandboxWindowsHost defines.
function Invoke-SandboxCsExport {
  $global:LASTEXITCODE = 1
  # Options are /<letter>:<value> (a Linux temp path also starts with '/', so match the option form exactly).
  $positional = @($args | Where-Object { ([string]$_) -notmatch '^/[A-Za-z]:' })
  $filter = @($args | Where-Object { ([string]$_) -match '^/f:' } | ForEach-Object { ([string]$_).Substring(3) })
  if ($positional.Count -lt 2) { [Console]::Error.WriteLine('Usage: csexport ma_name filename [/f:<filter>] [/o:<options>]'); return }
  try {
    $out = Invoke-SandboxCmdlet 'csexport' @{ ConnectorName = [string]$positional[0]; Filter = [string](@($filter + 'x')[0]) }
  } catch {
    [Console]::Error.WriteLine('csexport: ' + $_.Exception.Message)
    $global:LASTEXITCODE = 2
    return
  }
  [System.IO.File]::WriteAllText([string]$positional[1], [string]$out['xml'], [System.Text.Encoding]::Unicode)
  'Successfully exported connector space to file ''' + [string]$positional[1] + '''.'
  $global:LASTEXITCODE = 0
}

# The Connect server's C:\ drive (SandboxWindowsHost) holds Bin\csexport.exe, so Test-Path finds it; the alias answers
# the call (an alias comes before a file in PowerShell's command lookup).
if (-not $IsWindows) {
  Set-Alias -Name 'C:\Program Files\Microsoft Azure AD Sync\Bin\csexport.exe' -Value Invoke-SandboxCsExport -Scope Global
}
Export-ModuleMember -Function @(
  'Get-ADSyncScheduler', 'Set-ADSyncScheduler', 'Start-ADSyncSyncCycle', 'Get-ADSyncConnectorRunStatus', 'Get-ADSyncRunProfileResult',
  'Set-ADSyncSchedulerConnectorOverride', 'Get-ADSyncSchedulerConnectorOverride', 'Get-ADSyncConnector', 'Get-ADSyncRule', 'New-ADSyncRule',
  'Add-ADSyncAttributeFlowMapping', 'Add-ADSyncScopeConditionGroup', 'Add-ADSyncRule', 'Remove-ADSyncRule', 'Get-ADSyncAADCompanyFeature',
  'Set-ADSyncAADCompanyFeature', 'Get-ADSyncAADPasswordResetConfiguration', 'Get-ADSyncExportDeletionThreshold', 'Get-ADSyncServerConfiguration',
  'Get-ADSyncCSObject', 'Get-ADSyncMVObject', 'Invoke-SandboxCsExport'
)
