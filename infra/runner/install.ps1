#Requires -Version 5.1
#Requires -RunAsAdministrator
<#
.SYNOPSIS
    Installs the cutover runner agent on the Entra Connect Sync server as a scheduled task that runs at startup
    (and is restarted within five minutes if it stops) under a gMSA or a dedicated service account.

.DESCRIPTION
    Install (default):
      - checks Node.js 22 or later (22 LTS: Node 20 reached its end of life in April 2026);
      - installs the runner from a package you copied to the server: a .tgz made by `npm pack`, or a .zip of the
        repository (with its package-lock.json);
      - writes the runner token to a file that only the service account (read), SYSTEM and Administrators can open;
      - adds Windows Firewall rules for node.exe: outbound TCP 443 allowed, every other outbound port and all
        inbound traffic blocked (the runner dials out; nothing dials in);
      - registers the scheduled task, run as the service account with limited rights (not elevated).
    -RotateToken: replaces the token file (same ACL, atomic) and restarts the task.
    -Uninstall: removes the task, the firewall rules and the token file (the installed files stay).

    Nothing here evaluates text: no Invoke-Expression, parameters are validated, the token is never printed.

.EXAMPLE
    .\install.ps1 -Server https://cutover.contoso.com -ServiceAccount 'CONTOSO\gmsa-cutover$' -Package C:\temp\cutover-0.1.0.tgz

.EXAMPLE
    .\install.ps1 -RotateToken

.EXAMPLE
    .\install.ps1 -Uninstall
#>
[CmdletBinding(DefaultParameterSetName = 'Install')]
param(
    # The https URL of cutover (its PUBLIC_URL), host name only: the runner talks to it on port 443.
    [Parameter(Mandatory = $true, ParameterSetName = 'Install')]
    [ValidatePattern('^https://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+/?$')]
    [string] $Server,

    # DOMAIN\name$ for a group managed service account (recommended), or DOMAIN\user with -ServiceAccountCredential.
    [Parameter(Mandatory = $true, ParameterSetName = 'Install')]
    [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9.-]{0,14}\\[A-Za-z0-9][A-Za-z0-9._-]{0,19}\$?$')]
    [string] $ServiceAccount,

    # Only for an ordinary (non-gMSA) service account: its password, for the scheduled task.
    [Parameter(ParameterSetName = 'Install')]
    [System.Management.Automation.PSCredential] $ServiceAccountCredential,

    # The runner package: a .tgz from `npm pack` or a .zip of the repository.
    [Parameter(Mandatory = $true, ParameterSetName = 'Install')]
    [ValidatePattern('\.(tgz|zip)$')]
    [ValidateScript({ Test-Path -LiteralPath $_ -PathType Leaf })]
    [string] $Package,

    [Parameter(ParameterSetName = 'Install')]
    [ValidatePattern('^[A-Za-z]:\\(?!.*\.\.)[A-Za-z0-9 ._()\\-]+$')]
    [string] $InstallDir = 'C:\Program Files\cutover-runner',

    [Parameter(ParameterSetName = 'Install')]
    [Parameter(ParameterSetName = 'RotateToken')]
    [Parameter(ParameterSetName = 'Uninstall')]
    [ValidatePattern('^[A-Za-z]:\\(?!.*\.\.)[A-Za-z0-9 ._()\\-]+$')]
    [string] $DataDir = 'C:\ProgramData\cutover',

    [Parameter(ParameterSetName = 'Install')]
    [Parameter(ParameterSetName = 'RotateToken')]
    [Parameter(ParameterSetName = 'Uninstall')]
    [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$')]
    [string] $TaskName = 'cutover-runner',

    # The token shown once by `runner add <name>` in Teams. Prompted for (not echoed) when not given.
    [Parameter(ParameterSetName = 'Install')]
    [Parameter(ParameterSetName = 'RotateToken')]
    [System.Security.SecureString] $Token,

    # Also add the service account to the local ADSyncAdmins group (needed for the sync-rule and scheduler actions).
    [Parameter(ParameterSetName = 'Install')]
    [switch] $AddToADSyncAdmins,

    [Parameter(Mandatory = $true, ParameterSetName = 'RotateToken')]
    [switch] $RotateToken,

    [Parameter(Mandatory = $true, ParameterSetName = 'Uninstall')]
    [switch] $Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$FirewallGroup = 'cutover-runner'
$TokenPattern = '^cutover_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_[A-Za-z0-9_-]{43}$'
$TokenFile = Join-Path $DataDir 'runner.token'
$LogDir = Join-Path $DataDir 'logs'

function Get-NodePath {
    $node = (Get-Command -Name 'node.exe' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1)
    if (-not $node) { throw 'node.exe was not found on PATH: install Node.js 22 LTS first.' }
    $version = (node.exe --version).Trim()
    if ($version -notmatch '^v(\d+)\.' -or [int]$Matches[1] -lt 22) { throw ('Node.js 22 or later is required; found ' + $version + '.') }
    return $node.Source
}

function Get-AccountSid([string] $Account) {
    $nt = New-Object System.Security.Principal.NTAccount($Account)
    return $nt.Translate([System.Security.Principal.SecurityIdentifier])
}

# A protected ACL (no inheritance from the parent): SYSTEM and Administrators full control, the account the given rights.
function Set-RestrictedAcl([string] $Path, [System.Security.Principal.SecurityIdentifier] $AccountSid, [string] $Rights) {
    $isDir = Test-Path -LiteralPath $Path -PathType Container
    if ($isDir) { $acl = New-Object System.Security.AccessControl.DirectorySecurity } else { $acl = New-Object System.Security.AccessControl.FileSecurity }
    $acl.SetAccessRuleProtection($true, $false)
    $inherit = [System.Security.AccessControl.InheritanceFlags]::None
    if ($isDir) { $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit' }
    $none = [System.Security.AccessControl.PropagationFlags]::None
    $allow = [System.Security.AccessControl.AccessControlType]::Allow
    $system = New-Object System.Security.Principal.SecurityIdentifier([System.Security.Principal.WellKnownSidType]::LocalSystemSid, $null)
    $admins = New-Object System.Security.Principal.SecurityIdentifier([System.Security.Principal.WellKnownSidType]::BuiltinAdministratorsSid, $null)
    $full = [System.Security.AccessControl.FileSystemRights]::FullControl
    $acl.SetOwner($admins)
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($system, $full, $inherit, $none, $allow)))
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($admins, $full, $inherit, $none, $allow)))
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($AccountSid, [System.Security.AccessControl.FileSystemRights]$Rights, $inherit, $none, $allow)))
    Set-Acl -LiteralPath $Path -AclObject $acl
}

function Read-RunnerToken {
    $secure = $Token
    if (-not $secure) { $secure = Read-Host -AsSecureString -Prompt 'Runner token (from `runner add <name>` in Teams)' }
    $bstr = [System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure)
    try { $plain = [System.Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr).Trim() }
    finally { [System.Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr) }
    if ($plain -notmatch $TokenPattern) { throw 'That is not a cutover runner token (expected cutover_<id>_<secret>, as `runner add` shows it).' }
    return $plain
}

# Writes the token so that no one but the account (read), SYSTEM and Administrators can ever open it: the data
# directory is protected first, the token goes to a new file inside it, which is locked down before it is moved
# over the old one.
function Write-TokenFile([System.Security.Principal.SecurityIdentifier] $AccountSid) {
    $plain = Read-RunnerToken
    if (-not (Test-Path -LiteralPath $DataDir)) { New-Item -ItemType Directory -Path $DataDir | Out-Null }
    Set-RestrictedAcl -Path $DataDir -AccountSid $AccountSid -Rights 'ReadAndExecute'
    $tmp = Join-Path $DataDir ('runner.token.' + [guid]::NewGuid().ToString('N'))
    try {
        New-Item -ItemType File -Path $tmp | Out-Null
        Set-RestrictedAcl -Path $tmp -AccountSid $AccountSid -Rights 'Read'
        [System.IO.File]::WriteAllText($tmp, $plain, (New-Object System.Text.UTF8Encoding($false)))
        Move-Item -LiteralPath $tmp -Destination $TokenFile -Force
    }
    finally {
        if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Force }
    }
    Set-RestrictedAcl -Path $TokenFile -AccountSid $AccountSid -Rights 'Read'
    Write-Host ('Token written to ' + $TokenFile + ' (readable by ' + $AccountSid.Translate([System.Security.Principal.NTAccount]).Value + ', SYSTEM and Administrators only).')
}

function Install-RunnerPackage {
    if (-not (Test-Path -LiteralPath $InstallDir)) { New-Item -ItemType Directory -Path $InstallDir | Out-Null }
    $packagePath = (Resolve-Path -LiteralPath $Package).Path
    if ($packagePath.EndsWith('.tgz')) {
        # npm installs the package and its dependencies under $InstallDir\node_modules.
        npm.cmd install --prefix $InstallDir --omit dev --no-audit --no-fund $packagePath
        if ($LASTEXITCODE -ne 0) { throw ('npm install failed with exit code ' + $LASTEXITCODE + '.') }
        $name = (Get-Content -LiteralPath (Join-Path $InstallDir 'package.json') -Raw | ConvertFrom-Json).dependencies.PSObject.Properties.Name | Select-Object -First 1
        $appDir = Join-Path (Join-Path $InstallDir 'node_modules') $name
    }
    else {
        $appDir = Join-Path $InstallDir 'app'
        if (Test-Path -LiteralPath $appDir) { Remove-Item -LiteralPath $appDir -Recurse -Force }
        Expand-Archive -LiteralPath $packagePath -DestinationPath $appDir
        # Files from a downloaded zip carry the mark of the web; the action scripts must not be blocked by it.
        Get-ChildItem -LiteralPath $appDir -Recurse -File | Unblock-File
        $inner = @(Get-ChildItem -LiteralPath $appDir)
        if ($inner.Count -eq 1 -and $inner[0].PSIsContainer) { $appDir = $inner[0].FullName }
        if (-not (Test-Path -LiteralPath (Join-Path $appDir 'node_modules'))) {
            Push-Location -LiteralPath $appDir
            try {
                npm.cmd ci --omit dev --no-audit --no-fund
                if ($LASTEXITCODE -ne 0) { throw ('npm ci failed with exit code ' + $LASTEXITCODE + '.') }
            }
            finally { Pop-Location }
        }
    }
    $bin = Join-Path $appDir 'bin\cutover-runner.mjs'
    if (-not (Test-Path -LiteralPath $bin -PathType Leaf)) { throw ('The package has no bin\cutover-runner.mjs (looked in ' + $appDir + ').') }
    return $bin
}

function Set-RunnerFirewall([string] $NodePath) {
    Get-NetFirewallRule -Group $FirewallGroup -ErrorAction SilentlyContinue | Remove-NetFirewallRule
    $common = @{ Group = $FirewallGroup; Program = $NodePath; Profile = 'Any'; Enabled = 'True' }
    New-NetFirewallRule @common -DisplayName 'cutover-runner: HTTPS out' -Direction Outbound -Protocol TCP -RemotePort 443 -Action Allow | Out-Null
    New-NetFirewallRule @common -DisplayName 'cutover-runner: no other TCP out' -Direction Outbound -Protocol TCP -RemotePort '1-442', '444-65535' -Action Block | Out-Null
    New-NetFirewallRule @common -DisplayName 'cutover-runner: no UDP out' -Direction Outbound -Protocol UDP -Action Block | Out-Null
    New-NetFirewallRule @common -DisplayName 'cutover-runner: nothing in' -Direction Inbound -Action Block | Out-Null
    Write-Host ('Firewall: ' + $NodePath + ' may connect out on TCP 443 only; inbound blocked (rule group ' + $FirewallGroup + ').')
}

function Register-RunnerTask([string] $NodePath, [string] $Bin) {
    if (-not (Test-Path -LiteralPath $LogDir)) { New-Item -ItemType Directory -Path $LogDir | Out-Null }
    $sid = Get-AccountSid $ServiceAccount
    Set-RestrictedAcl -Path $LogDir -AccountSid $sid -Rights 'Modify'
    $serverUrl = $Server.TrimEnd('/')
    $log = Join-Path $LogDir 'runner.log'
    # cmd.exe only to append the agent's output to a log file; every piece was validated above and holds no quote.
    $command = '"' + $NodePath + '" "' + $Bin + '" --server ' + $serverUrl + ' --token-file "' + $TokenFile + '" --executor powershell >> "' + $log + '" 2>&1'
    $action = New-ScheduledTaskAction -Execute 'cmd.exe' -Argument ('/d /s /c "' + $command + '"') -WorkingDirectory (Split-Path -Parent (Split-Path -Parent $Bin))
    $atStartup = New-ScheduledTaskTrigger -AtStartup
    $every5min = New-ScheduledTaskTrigger -Once -At (Get-Date).AddMinutes(1) -RepetitionInterval (New-TimeSpan -Minutes 5)
    $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -MultipleInstances IgnoreNew -StartWhenAvailable `
        -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
    $existing = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    if ($existing) { Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false }
    if ($ServiceAccount.EndsWith('$')) {
        # A gMSA: Windows fetches its password from AD; it needs "Log on as a batch job" on this server.
        $principal = New-ScheduledTaskPrincipal -UserId $ServiceAccount -LogonType Password -RunLevel Limited
        Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $atStartup, $every5min -Settings $settings -Principal $principal `
            -Description 'cutover runner agent (dials out to cutover over HTTPS)' | Out-Null
    }
    else {
        if (-not $ServiceAccountCredential) { throw 'An ordinary service account needs -ServiceAccountCredential (or use a gMSA: DOMAIN\name$).' }
        $password = $ServiceAccountCredential.GetNetworkCredential().Password
        Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $atStartup, $every5min -Settings $settings -RunLevel Limited `
            -User $ServiceAccount -Password $password -Description 'cutover runner agent (dials out to cutover over HTTPS)' | Out-Null
    }
    Start-ScheduledTask -TaskName $TaskName
    Write-Host ('Scheduled task ' + $TaskName + ' runs as ' + $ServiceAccount + ' (not elevated); log: ' + $log)
}

function Get-TaskAccountSid {
    $task = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    if (-not $task) { throw ('No scheduled task ' + $TaskName + ': install first.') }
    return Get-AccountSid $task.Principal.UserId
}

switch ($PSCmdlet.ParameterSetName) {
    'Install' {
        if ($ServiceAccount.EndsWith('$') -and (Get-Command -Name Test-ADServiceAccount -ErrorAction SilentlyContinue)) {
            $gmsaName = $ServiceAccount.Split('\')[1].TrimEnd('$')
            if (-not (Test-ADServiceAccount -Identity $gmsaName)) {
                throw ('This server cannot use the gMSA ' + $ServiceAccount + ': run Install-ADServiceAccount and check PrincipalsAllowedToRetrieveManagedPassword.')
            }
        }
        $sid = Get-AccountSid $ServiceAccount
        $nodePath = Get-NodePath
        $bin = Install-RunnerPackage
        Write-TokenFile -AccountSid $sid
        if ($AddToADSyncAdmins) {
            Add-LocalGroupMember -Group 'ADSyncAdmins' -Member $ServiceAccount -ErrorAction SilentlyContinue
            Write-Host ($ServiceAccount + ' is in the local ADSyncAdmins group (needed for sync-rule and scheduler actions).')
        }
        Set-RunnerFirewall -NodePath $nodePath
        Register-RunnerTask -NodePath $nodePath -Bin $bin
        Write-Host 'Installed. In Teams, `runners` shows this runner within a minute.'
    }
    'RotateToken' {
        Write-TokenFile -AccountSid (Get-TaskAccountSid)
        Stop-ScheduledTask -TaskName $TaskName
        Start-ScheduledTask -TaskName $TaskName
        Write-Host ('Token replaced and ' + $TaskName + ' restarted.')
    }
    'Uninstall' {
        if (Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue) {
            Stop-ScheduledTask -TaskName $TaskName
            Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
        }
        Get-NetFirewallRule -Group $FirewallGroup -ErrorAction SilentlyContinue | Remove-NetFirewallRule
        if (Test-Path -LiteralPath $TokenFile) { Remove-Item -LiteralPath $TokenFile -Force }
        Write-Host 'Removed the task, the firewall rules and the token file. Revoke the runner in Teams: runner revoke <name>.'
    }
}
