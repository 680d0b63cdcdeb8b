# Helpers for the Pester tests: run an action script exactly as the runner agent does (a pwsh process, -NoLogo
# -NoProfile -NonInteractive -File, the agent's JSON on stdin, one JSON document on stdout), and arrange or read the
# simulated Connect server behind the fake modules (test/powershell/sandbox-server.ts, started by
# scripts/test-powershell.ts, which sets CUTOVER_TEST_SANDBOX_URL, CUTOVER_PWSH and CUTOVER_REPO).

Set-StrictMode -Version 3.0
$script:Http = [System.Net.Http.HttpClient]::new()

function Get-CutoverRepo { return $env:CUTOVER_REPO }
function Get-CutoverScriptsDir { return (Join-Path $env:CUTOVER_REPO 'src/agent/scripts') }

function Invoke-SandboxTestApi([string] $Method, [string] $Path, $Body) {
  if ([string]::IsNullOrEmpty($env:CUTOVER_TEST_SANDBOX_URL)) { throw 'CUTOVER_TEST_SANDBOX_URL is not set: run these tests with npm run test:powershell' }
  $uri = $env:CUTOVER_TEST_SANDBOX_URL + $Path
  if ($Method -eq 'GET') { $response = $script:Http.GetAsync($uri).GetAwaiter().GetResult() }
  else {
    $json = ConvertTo-Json -InputObject $Body -Depth 20 -Compress
    $content = [System.Net.Http.StringContent]::new($json, [System.Text.Encoding]::UTF8, 'application/json')
    $response = $script:Http.PostAsync($uri, $content).GetAwaiter().GetResult()
  }
  $text = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
  if (-not $response.IsSuccessStatusCode) { throw ('sandbox test API ' + $Path + ' answered ' + [int]$response.StatusCode + ': ' + $text) }
  return (ConvertFrom-Json -InputObject $text -DateKind String)
}

# A fresh simulated contoso.com (Connect Sync has run its first Initial cycle). -LargeOuUsers adds OU=Contractors.
function Reset-Sandbox([int] $LargeOuUsers = 0) { $null = Invoke-SandboxTestApi 'POST' '/test/reset' @{ largeOuUsers = $LargeOuUsers } }

# Changes the simulated server or forest as a person or time would (see ARRANGE in sandbox-server.ts).
function Set-SandboxState([string] $Action, [hashtable] $With = @{}) {
  $body = @{ action = $Action } + $With
  return (Invoke-SandboxTestApi 'POST' '/test/arrange' $body).result
}

function Get-SandboxState { return Invoke-SandboxTestApi 'GET' '/test/state' $null }

# The stdin document the agent would write for this action and these parameters (validated by the catalog).
function Get-CutoverStdin([string] $Action, [hashtable] $Params = @{}) {
  return (Invoke-SandboxTestApi 'POST' '/test/stdin' @{ action = $Action; params = $Params }).stdin
}

# What the TypeScript sandbox executor answers for this action on the same simulated server: { ok; result | error }.
function Invoke-SandboxExecutor([string] $Action, [hashtable] $Params = @{}) {
  return Invoke-SandboxTestApi 'POST' '/test/sandbox-executor' @{ action = $Action; params = $Params }
}

# Why a script's result fails the catalog's result schema (as the agent checks it), or $null when it passes.
function Test-CutoverResult([string] $Action, $Result) {
  $r = Invoke-SandboxTestApi 'POST' '/test/check-result' @{ action = $Action; result = $Result }
  if ($r.ok) { return $null }
  return [string]$r.error
}

# A result as comparable JSON: ISO dates in one form (a script writes [datetime]::ToString('o'), seven digits of
# fraction; Node writes three), everything else as it is, in order.
function ConvertTo-ComparableJson($Value) { return (ConvertTo-Json -InputObject (ConvertTo-ComparableValue $Value) -Depth 30 -Compress) }
function ConvertTo-ComparableValue($Value) {
  if ($null -eq $Value) { return $null }
  if ($Value -is [string]) {
    if ($Value -match '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$') {
      return ([datetimeoffset]::Parse($Value, [cultureinfo]::InvariantCulture)).UtcDateTime.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [cultureinfo]::InvariantCulture)
    }
    return $Value
  }
  if ($Value -is [System.Collections.IDictionary]) {
    $h = [ordered]@{}
    foreach ($k in $Value.Keys) { $h[[string]$k] = ConvertTo-ComparableValue $Value[$k] }
    return $h
  }
  if ($Value -is [System.Management.Automation.PSCustomObject]) {
    $h = [ordered]@{}
    foreach ($p in $Value.PSObject.Properties) { $h[$p.Name] = ConvertTo-ComparableValue $p.Value }
    return $h
  }
  if ($Value -is [System.Collections.IEnumerable]) { return , @(foreach ($x in $Value) { ConvertTo-ComparableValue $x }) }
  return $Value
}

# Runs src/agent/scripts/<Action>.ps1 in its own pwsh as the agent does. -Stdin sends raw text instead of the agent's
# document; -Environment adds variables (TZ, PSModulePath…). Answers { ExitCode; Ok; Result; Error; Stdout; Stderr }.
function Invoke-CutoverAction {
  param(
    [Parameter(Mandatory = $true)] [string] $Action,
    [hashtable] $Params = @{},
    [string] $Stdin,
    [hashtable] $Environment = @{},
    [string] $ScriptPath
  )
  if (-not $PSBoundParameters.ContainsKey('Stdin')) { $Stdin = Get-CutoverStdin $Action $Params }
  if (-not $ScriptPath) { $ScriptPath = Join-Path (Get-CutoverScriptsDir) ($Action + '.ps1') }
  $psi = [System.Diagnostics.ProcessStartInfo]::new($env:CUTOVER_PWSH)
  foreach ($a in @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', $ScriptPath)) { $psi.ArgumentList.Add($a) }
  $psi.RedirectStandardInput = $true
  $psi.RedirectStandardOutput = $true
  $psi.RedirectStandardError = $true
  $psi.UseShellExecute = $false
  $psi.StandardOutputEncoding = [System.Text.Encoding]::UTF8
  $psi.StandardErrorEncoding = [System.Text.Encoding]::UTF8
  foreach ($k in $Environment.Keys) { $psi.Environment[[string]$k] = [string]$Environment[$k] }
  $p = [System.Diagnostics.Process]::Start($psi)
  $stderrTask = $p.StandardError.ReadToEndAsync()
  $stdoutTask = $p.StandardOutput.ReadToEndAsync()
  $utf8 = [System.Text.UTF8Encoding]::new($false)
  $bytes = $utf8.GetBytes($Stdin)
  $p.StandardInput.BaseStream.Write($bytes, 0, $bytes.Length)
  $p.StandardInput.Close()
  if (-not $p.WaitForExit(180000)) { $p.Kill($true); throw ($Action + '.ps1 did not finish within 180 s') }
  $stdout = $stdoutTask.GetAwaiter().GetResult()
  $stderr = $stderrTask.GetAwaiter().GetResult()
  $last = @($stdout -split "`r?`n" | Where-Object { $_ -ne '' })
  $doc = $null
  if ($last.Count -gt 0) { try { $doc = ConvertFrom-Json -InputObject $last[-1] -DateKind String } catch { $doc = $null } }
  $result = $null
  $err = $null
  $ok = $false
  if ($null -ne $doc) {
    $ok = [bool]$doc.ok
    if ($ok) { $result = $doc.result } else { $err = $doc.error }
  }
  return [pscustomobject]@{ ExitCode = $p.ExitCode; Ok = $ok; Result = $result; Error = $err; Stdout = $stdout; Stderr = $stderr }
}

# The fake modules' folder (src/sandbox/powershell/modules) and a module path without ActiveDirectory (a Connect
# server without RSAT: the scripts fall back to ADSI there).
function Get-SandboxModulesDir { return (Join-Path $env:CUTOVER_REPO 'src/sandbox/powershell/modules') }
function New-ModulePathWithout([string[]] $Modules) {
  $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-modules-' + [guid]::NewGuid().ToString('N'))
  New-Item -ItemType Directory -Path $dir | Out-Null
  foreach ($m in @(Get-ChildItem -LiteralPath (Get-SandboxModulesDir) -Directory)) {
    if ($Modules -notcontains $m.Name) { New-Item -ItemType SymbolicLink -Path (Join-Path $dir $m.Name) -Target $m.FullName | Out-Null }
  }
  Copy-Item -LiteralPath (Join-Path (Get-SandboxModulesDir) 'SandboxBackend.ps1') -Destination $dir
  return $dir
}

Export-ModuleMember -Function @(
  'Get-CutoverRepo', 'Get-CutoverScriptsDir', 'Reset-Sandbox', 'Set-SandboxState', 'Get-SandboxState', 'Get-CutoverStdin', 'Invoke-CutoverAction',
  'Get-SandboxModulesDir', 'New-ModulePathWithout', 'Invoke-SandboxTestApi', 'Invoke-SandboxExecutor', 'Test-CutoverResult', 'ConvertTo-ComparableJson'
)
