# The cutover sandbox's ActiveDirectory module: the RSAT cmdlets the action scripts use, with the parameters Microsoft
# documents (names, types, parameter sets, mandatory ones, accepted values), so a wrong or missing parameter fails here
# as on a Connect server. Each call is answered by the sandbox's simulated domain (SandboxBackend.ps1 →
# src/sandbox/powershell/active-directory-cmdlets.ts).
#
# Source of every signature: MicrosoftDocs/windows-powershell-docs docset/winserver2022-ps/activedirectory/<cmdlet>.md
# (SYNTAX and PARAMETERS: Type, Parameter Sets, Required, Position, Accepted values). -Identity is typed [object]
# here: the real types (ADObject, ADGroup, ADUser, ADOrganizationalUnit, ADDomain, ADForest) take a DN, a GUID or an
# object, which is what the simulated domain resolves. -ResultSetSize is Nullable[int], as `-ResultSetSize $null`
# ("to receive all of the objects") requires.

Set-StrictMode -Version 1.0
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'SandboxBackend.ps1')

# "Accepted values: Base, OneLevel, Subtree" (-SearchScope) and "Negotiate, Basic" (-AuthType).
enum ADSearchScope { Base = 0; OneLevel = 1; Subtree = 2 }
enum ADAuthType { Negotiate = 0; Basic = 1 }
# Get-ADDomain / Get-ADForest -Current: "Accepted values: LocalComputer, LoggedOnUser".
enum ADCurrentDomainType { LocalComputer = 0; LoggedOnUser = 1 }

function Invoke-SandboxAdSearch([string] $Cmdlet, $Bound, $PSCmdletObject) {
  foreach ($o in @(Invoke-SandboxCmdlet $Cmdlet $Bound $PSCmdletObject)) {
    if ($null -eq $o) { continue }
    $obj = ConvertFrom-SandboxValue $o
    $obj.PSObject.TypeNames.Insert(0, 'Microsoft.ActiveDirectory.Management.ADObject')
    $obj
  }
}

# Get-ADObject: Filter (default) | Identity | LdapFilter.
#   [-AuthType] [-Credential] -Filter <String> [-IncludeDeletedObjects] [-Properties <String[]>] [-ResultPageSize <Int32>]
#   [-ResultSetSize <Int32>] [-SearchBase <String>] [-SearchScope <ADSearchScope>] [-Server <String>]
#   [-Identity] <ADObject> (Position 0, pipeline) [-Partition <String>] …; -LDAPFilter <String> …
function Get-ADObject {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Filter')]
  param(
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential,
    [Parameter(Mandatory = $true, ParameterSetName = 'Filter')] [string] $Filter,
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Identity', ValueFromPipeline = $true)] [object] $Identity,
    [Parameter(Mandatory = $true, ParameterSetName = 'LdapFilter')] [string] $LDAPFilter,
    [switch] $IncludeDeletedObjects,
    [Parameter(ParameterSetName = 'Identity')] [string] $Partition,
    [Alias('Property')] [string[]] $Properties,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [int] $ResultPageSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [Nullable[int]] $ResultSetSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [string] $SearchBase,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [ADSearchScope] $SearchScope,
    [string] $Server
  )
  process { Invoke-SandboxAdSearch 'Get-ADObject' $PSBoundParameters $PSCmdlet }
}

# Get-ADUser: Filter (default) | Identity | LdapFilter; as Get-ADObject without -IncludeDeletedObjects.
function Get-ADUser {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Filter')]
  param(
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential,
    [Parameter(Mandatory = $true, ParameterSetName = 'Filter')] [string] $Filter,
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Identity', ValueFromPipeline = $true)] [object] $Identity,
    [Parameter(Mandatory = $true, ParameterSetName = 'LdapFilter')] [string] $LDAPFilter,
    [Parameter(ParameterSetName = 'Identity')] [string] $Partition,
    [Alias('Property')] [string[]] $Properties,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [int] $ResultPageSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [Nullable[int]] $ResultSetSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [string] $SearchBase,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [ADSearchScope] $SearchScope,
    [string] $Server
  )
  process { Invoke-SandboxAdSearch 'Get-ADUser' $PSBoundParameters $PSCmdlet }
}

# Get-ADGroup: Filter (default) | Identity | LdapFilter; [-ShowMemberTimeToLive].
function Get-ADGroup {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Filter')]
  param(
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential,
    [Parameter(Mandatory = $true, ParameterSetName = 'Filter')] [string] $Filter,
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Identity', ValueFromPipeline = $true)] [object] $Identity,
    [Parameter(Mandatory = $true, ParameterSetName = 'LdapFilter')] [string] $LDAPFilter,
    [Parameter(ParameterSetName = 'Identity')] [string] $Partition,
    [Alias('Property')] [string[]] $Properties,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [int] $ResultPageSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [Nullable[int]] $ResultSetSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [string] $SearchBase,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [ADSearchScope] $SearchScope,
    [string] $Server,
    [switch] $ShowMemberTimeToLive
  )
  process { Invoke-SandboxAdSearch 'Get-ADGroup' $PSBoundParameters $PSCmdlet }
}

# Get-ADOrganizationalUnit: Filter (default) | Identity | LdapFilter.
function Get-ADOrganizationalUnit {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Filter')]
  param(
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential,
    [Parameter(Mandatory = $true, ParameterSetName = 'Filter')] [string] $Filter,
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Identity', ValueFromPipeline = $true)] [object] $Identity,
    [Parameter(Mandatory = $true, ParameterSetName = 'LdapFilter')] [string] $LDAPFilter,
    [Parameter(ParameterSetName = 'Identity')] [string] $Partition,
    [Alias('Property')] [string[]] $Properties,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [int] $ResultPageSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [Nullable[int]] $ResultSetSize,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [string] $SearchBase,
    [Parameter(ParameterSetName = 'Filter')] [Parameter(ParameterSetName = 'LdapFilter')] [ADSearchScope] $SearchScope,
    [string] $Server
  )
  process { Invoke-SandboxAdSearch 'Get-ADOrganizationalUnit' $PSBoundParameters $PSCmdlet }
}

# Set-ADGroup: Identity (default) | Instance.
#   [-Identity] <ADGroup> (Position 0, pipeline) [-Add <Hashtable>] [-Clear <String[]>] [-Remove <Hashtable>]
#   [-Replace <Hashtable>] [-Description] [-DisplayName] [-GroupCategory <ADGroupCategory>] [-GroupScope <ADGroupScope>]
#   [-HomePage] [-ManagedBy] [-SamAccountName] [-Partition] [-PassThru] [-Server] [-AuthType] [-Credential] [-WhatIf] [-Confirm]
function Set-ADGroup {
  [CmdletBinding(PositionalBinding = $false, SupportsShouldProcess = $true, DefaultParameterSetName = 'Identity')]
  param(
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Identity', ValueFromPipeline = $true)] [object] $Identity,
    [Parameter(ParameterSetName = 'Identity')] [hashtable] $Add,
    [Parameter(ParameterSetName = 'Identity')] [string[]] $Clear,
    [Parameter(ParameterSetName = 'Identity')] [hashtable] $Remove,
    [Parameter(ParameterSetName = 'Identity')] [hashtable] $Replace,
    [Parameter(ParameterSetName = 'Identity')] [string] $Description,
    [Parameter(ParameterSetName = 'Identity')] [string] $DisplayName,
    [Parameter(ParameterSetName = 'Identity')] [ValidateSet('Distribution', 'Security')] [string] $GroupCategory,
    [Parameter(ParameterSetName = 'Identity')] [ValidateSet('DomainLocal', 'Global', 'Universal')] [string] $GroupScope,
    [Parameter(ParameterSetName = 'Identity')] [string] $HomePage,
    [Parameter(ParameterSetName = 'Identity')] [object] $ManagedBy,
    [Parameter(ParameterSetName = 'Identity')] [string] $SamAccountName,
    [Parameter(ParameterSetName = 'Identity')] [string] $Partition,
    [Parameter(Mandatory = $true, ParameterSetName = 'Instance')] [object] $Instance,
    [switch] $PassThru,
    [string] $Server,
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential
  )
  process {
    if ($PSCmdlet.ParameterSetName -eq 'Instance') { $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord -ArgumentList (New-Object System.NotSupportedException -ArgumentList 'Set-ADGroup -Instance: the sandbox does not model it; extend src/sandbox/powershell to rehearse it'), 'SandboxNotModelled', 'NotImplemented', $null)) }
    if (-not $PSCmdlet.ShouldProcess([string]$Identity, 'Set')) { return }
    Invoke-SandboxAdSearch 'Set-ADGroup' $PSBoundParameters $PSCmdlet
  }
}

# Get-ADDomain: Current | Identity (default): [[-Identity] <ADDomain>] (Position 0) | -Current <ADCurrentDomainType>;
# [-AuthType] [-Credential] [-Server].
function Get-ADDomain {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Identity')]
  param(
    [Parameter(Position = 0, ParameterSetName = 'Identity', ValueFromPipeline = $true)] [object] $Identity,
    [Parameter(Mandatory = $true, ParameterSetName = 'Current')] [ADCurrentDomainType] $Current,
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential,
    [string] $Server
  )
  process { Invoke-SandboxAdSearch 'Get-ADDomain' $PSBoundParameters $PSCmdlet }
}

# Get-ADForest: Current | Identity (default), as Get-ADDomain.
function Get-ADForest {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Identity')]
  param(
    [Parameter(Position = 0, ParameterSetName = 'Identity', ValueFromPipeline = $true)] [object] $Identity,
    [Parameter(Mandatory = $true, ParameterSetName = 'Current')] [ADCurrentDomainType] $Current,
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential,
    [string] $Server
  )
  process { Invoke-SandboxAdSearch 'Get-ADForest' $PSBoundParameters $PSCmdlet }
}

# Get-ADRootDSE [-AuthType] [-Credential] [-Properties <String[]>] [-Server]
function Get-ADRootDSE {
  [CmdletBinding(PositionalBinding = $false)]
  param(
    [ADAuthType] $AuthType,
    [System.Management.Automation.PSCredential] $Credential,
    [Alias('Property')] [string[]] $Properties,
    [string] $Server
  )
  Invoke-SandboxAdSearch 'Get-ADRootDSE' $PSBoundParameters $PSCmdlet
}

Export-ModuleMember -Function @('Get-ADObject', 'Get-ADUser', 'Get-ADGroup', 'Get-ADOrganizationalUnit', 'Set-ADGroup', 'Get-ADDomain', 'Get-ADForest', 'Get-ADRootDSE')
