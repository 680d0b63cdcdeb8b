# The cutover sandbox's Windows host: what the action scripts use of the Connect server's Windows besides the ADSync and
# ActiveDirectory modules. On Linux pwsh neither these cmdlets nor a C:\ drive exist; here they are the simulated
# server's:
#   - the ADSync Windows service: Get-Service, Set-Service, Start-Service, Stop-Service (Microsoft.PowerShell.Management)
#     and Win32_Service through Get-CimInstance (CimCmdlets), backed by the simulated server (adsync-cmdlets.ts);
#   - a C: drive (a folder, $env:CUTOVER_SANDBOX_WINDOWS_ROOT) holding C:\Program Files\Microsoft Azure AD Sync\Bin\
#     csexport.exe, and %ProgramData% ($env:ProgramData, a real path under that folder).
# Parameters as documented for Windows PowerShell 5.1 (MicrosoftDocs/PowerShell-Docs reference/5.1/
# Microsoft.PowerShell.Management/{Get,Set,Start,Stop}-Service.md, reference/5.1/CimCmdlets/Get-CimInstance.md): the
# scripts run on 5.1, so a 7-only value (Set-Service -StartupType AutomaticDelayedStart) is refused here too.

Set-StrictMode -Version 1.0
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'SandboxBackend.ps1')

function Initialize-SandboxWindowsHost {
  if ($IsWindows) { return }
  $root = $env:CUTOVER_SANDBOX_WINDOWS_ROOT
  if ([string]::IsNullOrEmpty($root)) { $root = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-sandbox-windows-' + [Environment]::UserName) }
  $bin = Join-Path $root 'Program Files/Microsoft Azure AD Sync/Bin'
  if (-not (Test-Path -LiteralPath $bin)) { New-Item -ItemType Directory -Path $bin -Force | Out-Null }
  $csexport = Join-Path $bin 'csexport.exe'
  if (-not (Test-Path -LiteralPath $csexport)) { [System.IO.File]::WriteAllText($csexport, 'The cutover sandbox answers csexport.exe through the ADSync module (Invoke-SandboxCsExport).') }
  $programData = Join-Path $root 'ProgramData'
  if (-not (Test-Path -LiteralPath $programData)) { New-Item -ItemType Directory -Path $programData -Force | Out-Null }
  if ([string]::IsNullOrEmpty($env:ProgramData)) { $env:ProgramData = $programData }
  if (-not (Get-PSDrive -Name C -PSProvider FileSystem -ErrorAction SilentlyContinue)) {
    New-PSDrive -Name C -PSProvider FileSystem -Root $root -Scope Global | Out-Null
  }
}

# Get-Service [[-Name] <String[]>] [-DependentServices] [-RequiredServices] [-Include <String[]>] [-Exclude <String[]>]
# | -DisplayName <String[]> | -InputObject <ServiceController[]>
function Get-Service {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'Default')]
  param(
    [Parameter(Position = 0, ParameterSetName = 'Default', ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)] [Alias('ServiceName')] [string[]] $Name,
    [Parameter(Mandatory = $true, ParameterSetName = 'DisplayName')] [string[]] $DisplayName,
    [Alias('DS')] [switch] $DependentServices,
    [Alias('SDO', 'ServicesDependedOn')] [switch] $RequiredServices,
    [string[]] $Include,
    [string[]] $Exclude
  )
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-Service' $PSBoundParameters $PSCmdlet)
}

# Set-Service [-Name] <String> [-DisplayName <String>] [-Description <String>] [-StartupType <ServiceStartMode>]
# [-Status <String>] [-PassThru] [-WhatIf] [-Confirm]; 5.1's StartupType: Automatic, Manual, Disabled (Boot, System:
# drivers only).
function Set-Service {
  [CmdletBinding(PositionalBinding = $false, SupportsShouldProcess = $true, DefaultParameterSetName = 'Name')]
  param(
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Name', ValueFromPipelineByPropertyName = $true)] [Alias('ServiceName', 'SN')] [string] $Name,
    [Alias('DN')] [string] $DisplayName,
    [string] $Description,
    [Alias('StartMode', 'SM', 'ST')] [ValidateSet('Automatic', 'Manual', 'Disabled', 'Boot', 'System')] [string] $StartupType,
    [ValidateSet('Running', 'Stopped', 'Paused')] [string] $Status,
    [switch] $PassThru
  )
  if (-not $PSCmdlet.ShouldProcess($Name, 'Set-Service')) { return }
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Set-Service' $PSBoundParameters $PSCmdlet)
}

# Start-Service [-Name] <String[]> [-PassThru] [-Include] [-Exclude] [-WhatIf] [-Confirm]
function Start-Service {
  [CmdletBinding(PositionalBinding = $false, SupportsShouldProcess = $true, DefaultParameterSetName = 'Default')]
  param(
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Default', ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)] [Alias('ServiceName')] [string[]] $Name,
    [switch] $PassThru,
    [string[]] $Include,
    [string[]] $Exclude
  )
  if (-not $PSCmdlet.ShouldProcess(($Name -join ', '), 'Start-Service')) { return }
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Start-Service' $PSBoundParameters $PSCmdlet)
}

# Stop-Service [-Name] <String[]> [-Force] [-NoWait] [-PassThru] [-Include] [-Exclude] [-WhatIf] [-Confirm]
function Stop-Service {
  [CmdletBinding(PositionalBinding = $false, SupportsShouldProcess = $true, DefaultParameterSetName = 'Default')]
  param(
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Default', ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)] [Alias('ServiceName')] [string[]] $Name,
    [switch] $Force,
    [switch] $NoWait,
    [switch] $PassThru,
    [string[]] $Include,
    [string[]] $Exclude
  )
  if (-not $PSCmdlet.ShouldProcess(($Name -join ', '), 'Stop-Service')) { return }
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Stop-Service' $PSBoundParameters $PSCmdlet)
}

# Get-CimInstance [-ClassName] <String> [-Filter <String>] [-Property <String[]>] [-Namespace <String>]
# [-ComputerName <String[]>] [-KeyOnly] [-Shallow] [-OperationTimeoutSec <UInt32>]   (ClassNameComputerSet)
function Get-CimInstance {
  [CmdletBinding(PositionalBinding = $false, DefaultParameterSetName = 'ClassNameComputerSet')]
  param(
    [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'ClassNameComputerSet')] [string] $ClassName,
    [string] $Filter,
    [Alias('SelectProperties')] [string[]] $Property,
    [string] $Namespace,
    [Alias('CN', 'ServerName')] [string[]] $ComputerName,
    [switch] $KeyOnly,
    [switch] $Shallow,
    [Alias('OT')] [uint32] $OperationTimeoutSec
  )
  Write-SandboxOutput (Invoke-SandboxCmdlet 'Get-CimInstance' $PSBoundParameters $PSCmdlet)
}

# On Windows the real cmdlets and C:\ answer: this module then adds nothing.
if ($IsWindows) { Export-ModuleMember -Function @() }
else {
  Initialize-SandboxWindowsHost
  Export-ModuleMember -Function @('Get-Service', 'Set-Service', 'Start-Service', 'Stop-Service', 'Get-CimInstance', 'Initialize-SandboxWindowsHost')
}
