# infra/runner/install.ps1 under pwsh. Its parameters are bound by PowerShell exactly as on the Connect server, so
# every validation is tried by invoking the script itself (binding fails before anything runs). Its functions are
# loaded from its own syntax tree and run with the Windows-only commands they call (scheduled tasks, firewall, node.exe,
# npm.cmd) mocked, which is how what they would do is seen here. What needs Windows' ACL and SID APIs (writing the
# token file under a protected ACL, resolving the service account) cannot run on this platform: those tests say so.

BeforeAll {
  $script:Install = Join-Path $env:CUTOVER_REPO 'infra/runner/install.ps1'
  $script:Token = 'cutover_0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9_' + ('A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v'.Substring(0, 43))
  $script:Tgz = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-' + [guid]::NewGuid().ToString('N') + '.tgz')
  Set-Content -LiteralPath $Tgz -Value 'not really a package'
  function Get-BindingError([hashtable] $Arguments) {
    try { & $Install @Arguments | Out-Null; return $null } catch { return $_ }
  }

  # Stand-ins for Windows-only commands, so Pester can mock them (Mock needs a command to wrap).
  function global:New-ScheduledTaskAction { param([string] $Execute, [string] $Argument, [string] $WorkingDirectory) }
  function global:New-ScheduledTaskTrigger { param([switch] $AtStartup, [switch] $Once, [datetime] $At, [timespan] $RepetitionInterval) }
  function global:New-ScheduledTaskSettingsSet { param([timespan] $ExecutionTimeLimit, [string] $MultipleInstances, [switch] $StartWhenAvailable, [int] $RestartCount, [timespan] $RestartInterval, [switch] $AllowStartIfOnBatteries, [switch] $DontStopIfGoingOnBatteries) }
  function global:New-ScheduledTaskPrincipal { param([string] $UserId, [string] $LogonType, [string] $RunLevel) }
  function global:Register-ScheduledTask { param([string] $TaskName, $Action, $Trigger, $Settings, $Principal, [string] $Description, [string] $RunLevel, [string] $User, [string] $Password) }
  function global:Get-ScheduledTask { [CmdletBinding()] param([string] $TaskName) }
  function global:Unregister-ScheduledTask { [CmdletBinding(SupportsShouldProcess = $true)] param([string] $TaskName) }
  function global:Start-ScheduledTask { param([string] $TaskName) }
  function global:Stop-ScheduledTask { param([string] $TaskName) }
  function global:Get-NetFirewallRule { [CmdletBinding()] param([string] $Group) }
  function global:Remove-NetFirewallRule { param([Parameter(ValueFromPipeline = $true)] $InputObject) process { } }
  function global:New-NetFirewallRule { param([string] $Group, [string] $Program, [string] $Profile, [string] $Enabled, [string] $DisplayName, [string] $Direction, [string] $Protocol, [string[]] $RemotePort, [string] $Action) }
  function global:node.exe { }
  function global:npm.cmd { }

  # The installer's functions and its script-level settings, as the script defines them.
  $ast = [System.Management.Automation.Language.Parser]::ParseFile($Install, [ref]$null, [ref]$null)
  $script:DataDir = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-data-' + [guid]::NewGuid().ToString('N'))
  $script:TaskName = 'cutover-runner'
  $script:Server = 'https://cutover.contoso.com'
  $script:ServiceAccount = 'CONTOSO\gmsa-cutover$'
  $script:ServiceAccountCredential = $null
  foreach ($s in $ast.EndBlock.Statements) {
    if ($s -is [System.Management.Automation.Language.AssignmentStatementAst]) { . ([scriptblock]::Create($s.Extent.Text)) }
  }
  foreach ($f in $ast.FindAll({ param($a) $a -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false)) { . ([scriptblock]::Create($f.Extent.Text)) }
}

AfterAll {
  Remove-Item -LiteralPath $Tgz -Force -ErrorAction SilentlyContinue
  foreach ($c in 'New-ScheduledTaskAction', 'New-ScheduledTaskTrigger', 'New-ScheduledTaskSettingsSet', 'New-ScheduledTaskPrincipal', 'Register-ScheduledTask', 'Get-ScheduledTask', 'Unregister-ScheduledTask', 'Start-ScheduledTask', 'Stop-ScheduledTask', 'Get-NetFirewallRule', 'Remove-NetFirewallRule', 'New-NetFirewallRule', 'node.exe', 'npm.cmd') {
    Remove-Item -LiteralPath ('function:' + $c) -ErrorAction SilentlyContinue
  }
}

Describe 'install.ps1 parameters (bound by PowerShell before anything runs)' {
  It 'needs -Server, -ServiceAccount and -Package to install' {
    (Get-BindingError @{}).Exception.Message | Should -BeLike '*missing mandatory parameters: Server ServiceAccount Package*'
  }
  It 'takes an https URL of a host name only: no http, no port, no path' {
    foreach ($bad in 'http://cutover.contoso.com', 'https://cutover.contoso.com:8443', 'https://cutover.contoso.com/api', 'https://localhost') {
      (Get-BindingError @{ Server = $bad; ServiceAccount = 'CONTOSO\gmsa-cutover$'; Package = $Tgz }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*' -Because $bad
    }
  }
  It 'takes DOMAIN\account (a gMSA ends with $), nothing else' {
    foreach ($bad in 'gmsa-cutover$', 'CONTOSO\gmsa cutover', 'CONTOSO\gmsa;calc', 'CONTOSO.COM.TOO.LONG.NAME\x') {
      (Get-BindingError @{ Server = 'https://cutover.contoso.com'; ServiceAccount = $bad; Package = $Tgz }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*' -Because $bad
    }
  }
  It 'takes a .tgz or .zip package that exists' {
    (Get-BindingError @{ Server = 'https://cutover.contoso.com'; ServiceAccount = 'CONTOSO\gmsa-cutover$'; Package = 'C:\temp\cutover.exe' }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*'
    (Get-BindingError @{ Server = 'https://cutover.contoso.com'; ServiceAccount = 'CONTOSO\gmsa-cutover$'; Package = '/nonexistent/cutover.tgz' }).Exception.Message | Should -BeLike '*Test-Path*'
  }
  It 'refuses folders outside a drive or with ..' {
    foreach ($bad in 'relative\dir', 'C:\Program Files\..\Windows', '\\server\share') {
      (Get-BindingError @{ RotateToken = $true; DataDir = $bad }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*' -Because $bad
    }
  }
  It 'keeps install, -RotateToken and -Uninstall apart' {
    (Get-BindingError @{ RotateToken = $true; Uninstall = $true }).FullyQualifiedErrorId | Should -BeLike 'AmbiguousParameterSet,*'
    (Get-BindingError @{ RotateToken = $true; Server = 'https://cutover.contoso.com' }).FullyQualifiedErrorId | Should -BeLike 'AmbiguousParameterSet,*'
  }
  It 'takes the token only as a SecureString (never plain text on the command line)' {
    (Get-BindingError @{ RotateToken = $true; Token = $Token }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
  }
}

Describe 'install.ps1: the token' {
  It 'accepts a token as `runner add` shows it' {
    $script:Token = (ConvertTo-SecureString -String $Token -AsPlainText -Force)
    $plain = Read-RunnerToken
    $plain | Should -Match $TokenPattern
  }
  It 'refuses anything else, without echoing it' {
    $script:Token = (ConvertTo-SecureString -String 'cutover_not-a-token' -AsPlainText -Force)
    { Read-RunnerToken } | Should -Throw 'That is not a cutover runner token*'
    try { Read-RunnerToken } catch { $_.Exception.Message | Should -Not -BeLike '*not-a-token*' }
  }
  # Needs Windows' ACL and SID APIs, and an elevated session (the owner is set to Administrators).
  It 'writes the token file readable by the account, SYSTEM and Administrators only, leaving no copy behind' -Skip:(-not $IsWindows -or -not ([System.Security.Principal.WindowsPrincipal][System.Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole('Administrators')) {
    $plain = 'cutover_0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9_' + ('x' * 43)
    $script:Token = ConvertTo-SecureString -String $plain -AsPlainText -Force
    $script:DataDir = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-data-' + [guid]::NewGuid().ToString('N'))
    $script:TokenFile = Join-Path $DataDir 'runner.token'
    $me = [System.Security.Principal.WindowsIdentity]::GetCurrent().User
    Mock Write-Host { }
    Write-TokenFile -AccountSid $me
    [System.IO.File]::ReadAllText($TokenFile) | Should -BeExactly $plain
    $acl = Get-Acl -LiteralPath $TokenFile
    $acl.AreAccessRulesProtected | Should -BeTrue
    @($acl.Access | ForEach-Object { $_.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value } | Sort-Object -Unique) | Should -Be @(@('S-1-5-18', 'S-1-5-32-544', $me.Value) | Sort-Object)
    @(Get-ChildItem -LiteralPath $DataDir -Filter 'runner.token.*').Count | Should -Be 0
    Should -Invoke Write-Host -ParameterFilter { ([string]$Object) -notlike ('*' + $plain + '*') }
    Remove-Item -LiteralPath $DataDir -Recurse -Force
  }
}

Describe 'install.ps1: Node.js' {
  BeforeEach {
    Mock Get-Command { [pscustomobject]@{ Source = 'C:\Program Files\nodejs\node.exe' } } -ParameterFilter { $Name -eq 'node.exe' }
  }
  It 'refuses a Node.js older than 22 LTS, the line cutover runs on (Node 20 reached its end of life in April 2026)' {
    Mock node.exe { 'v20.19.5' }
    { Get-NodePath } | Should -Throw 'Node.js 22 or later is required; found v20.19.5.'
  }
  It 'uses node.exe from PATH when it is 22 or later' {
    Mock node.exe { 'v22.12.0' }
    Get-NodePath | Should -Be 'C:\Program Files\nodejs\node.exe'
  }
  It 'says what to install when there is no node.exe' {
    Mock Get-Command { $null } -ParameterFilter { $Name -eq 'node.exe' }
    { Get-NodePath } | Should -Throw 'node.exe was not found on PATH: install Node.js 22 LTS first.'
  }
}

Describe 'install.ps1: the firewall' {
  It 'lets node.exe out on TCP 443 only and in not at all' {
    Mock Get-NetFirewallRule { }
    Mock New-NetFirewallRule { }
    Mock Write-Host { }
    Set-RunnerFirewall -NodePath 'C:\Program Files\nodejs\node.exe'
    Should -Invoke New-NetFirewallRule -Times 4 -Exactly
    Should -Invoke New-NetFirewallRule -Times 1 -Exactly -ParameterFilter { $Direction -eq 'Outbound' -and $Protocol -eq 'TCP' -and $RemotePort -eq '443' -and $Action -eq 'Allow' -and $Program -like '*node.exe' }
    Should -Invoke New-NetFirewallRule -Times 1 -Exactly -ParameterFilter { $Direction -eq 'Outbound' -and $Protocol -eq 'TCP' -and (@($RemotePort) -join ',') -eq '1-442,444-65535' -and $Action -eq 'Block' }
    Should -Invoke New-NetFirewallRule -Times 1 -Exactly -ParameterFilter { $Direction -eq 'Outbound' -and $Protocol -eq 'UDP' -and $Action -eq 'Block' }
    Should -Invoke New-NetFirewallRule -Times 1 -Exactly -ParameterFilter { $Direction -eq 'Inbound' -and $Action -eq 'Block' }
    Should -Invoke New-NetFirewallRule -Times 0 -Exactly -ParameterFilter { $Action -eq 'Allow' -and $RemotePort -ne '443' }
  }
}

Describe 'install.ps1: the scheduled task' {
  BeforeEach {
    Mock Get-AccountSid { $null }
    Mock Set-RestrictedAcl { }
    Mock New-Item { }
    Mock Test-Path { $true }
    Mock New-ScheduledTaskAction { [pscustomobject]@{ Execute = $Execute; Arguments = $Argument; WorkingDirectory = $WorkingDirectory } }
    Mock New-ScheduledTaskTrigger { [pscustomobject]@{ AtStartup = [bool]$AtStartup } }
    Mock New-ScheduledTaskSettingsSet { [pscustomobject]@{ } }
    Mock New-ScheduledTaskPrincipal { [pscustomobject]@{ UserId = $UserId; LogonType = $LogonType; RunLevel = $RunLevel } }
    Mock Get-ScheduledTask { $null }
    Mock Register-ScheduledTask { }
    Mock Start-ScheduledTask { }
    Mock Write-Host { }
  }
  It 'runs the agent with --executor powershell as the gMSA, not elevated, its output appended to the log' {
    $script:ServiceAccount = 'CONTOSO\gmsa-cutover$'
    Register-RunnerTask -NodePath 'C:\Program Files\nodejs\node.exe' -Bin 'C:\Program Files\cutover-runner\app\bin\cutover-runner.mjs'
    Should -Invoke New-ScheduledTaskAction -Times 1 -Exactly -ParameterFilter {
      $Execute -eq 'cmd.exe' -and
      $Argument -like '/d /s /c ""C:\Program Files\nodejs\node.exe" "C:\Program Files\cutover-runner\app\bin\cutover-runner.mjs" --server https://cutover.contoso.com --token-file "*runner.token" --executor powershell >> "*runner.log" 2>&1"'
    }
    Should -Invoke New-ScheduledTaskPrincipal -Times 1 -Exactly -ParameterFilter { $UserId -eq 'CONTOSO\gmsa-cutover$' -and $LogonType -eq 'Password' -and $RunLevel -eq 'Limited' }
    Should -Invoke Register-ScheduledTask -Times 1 -Exactly -ParameterFilter { $TaskName -eq 'cutover-runner' -and $null -ne $Principal -and -not $Password }
    Should -Invoke Start-ScheduledTask -Times 1 -Exactly
  }
  It 'refuses an ordinary account without its credential (a gMSA needs none)' {
    $script:ServiceAccount = 'CONTOSO\svc-cutover'
    $script:ServiceAccountCredential = $null
    { Register-RunnerTask -NodePath 'C:\node.exe' -Bin 'C:\x\bin\cutover-runner.mjs' } | Should -Throw 'An ordinary service account needs -ServiceAccountCredential*'
    Should -Invoke Register-ScheduledTask -Times 0 -Exactly
    $script:ServiceAccount = 'CONTOSO\gmsa-cutover$'
  }
  It 'replaces an existing task of the same name instead of adding a second one' {
    Mock Get-ScheduledTask { [pscustomobject]@{ TaskName = 'cutover-runner' } }
    Mock Unregister-ScheduledTask { }
    Register-RunnerTask -NodePath 'C:\node.exe' -Bin 'C:\x\bin\cutover-runner.mjs'
    Should -Invoke Unregister-ScheduledTask -Times 1 -Exactly -ParameterFilter { $TaskName -eq 'cutover-runner' }
    Should -Invoke Register-ScheduledTask -Times 1 -Exactly
  }
}

Describe 'install.ps1: the package' {
  It 'installs a .tgz with npm (no dev dependencies, no audit) and finds the agent''s entry point in it' {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-install-' + [guid]::NewGuid().ToString('N'))
    $script:InstallDir = $dir
    $script:Package = $Tgz
    New-Item -ItemType Directory -Path (Join-Path $dir 'node_modules/cutover/bin') -Force | Out-Null
    Set-Content -LiteralPath (Join-Path $dir 'package.json') -Value '{"dependencies":{"cutover":"file:cutover.tgz"}}'
    Set-Content -LiteralPath (Join-Path $dir 'node_modules/cutover/bin/cutover-runner.mjs') -Value '// entry'
    Mock npm.cmd { $global:LASTEXITCODE = 0 }
    $bin = Install-RunnerPackage
    Should -Invoke npm.cmd -Times 1 -Exactly -ParameterFilter { ($args -join ' ') -like "install --prefix $dir --omit dev --no-audit --no-fund *" }
    $bin | Should -Be (Join-Path (Join-Path (Join-Path $dir 'node_modules') 'cutover') 'bin\cutover-runner.mjs')
    Remove-Item -LiteralPath $dir -Recurse -Force
  }
  It 'stops when npm fails, naming its exit code' {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-install-' + [guid]::NewGuid().ToString('N'))
    $script:InstallDir = $dir
    $script:Package = $Tgz
    Mock npm.cmd { $global:LASTEXITCODE = 1 }
    { Install-RunnerPackage } | Should -Throw 'npm install failed with exit code 1.'
    Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
  }
}
