# Shared by the sandbox's fake ADSync, ActiveDirectory and SandboxWindowsHost modules (dot-sourced by each): one call
# of a cmdlet goes to the sandbox's simulated Connect server and forest over HTTP on loopback
# ($env:CUTOVER_SANDBOX_ONPREM_URL + '/cmdlets/<name>', served by src/sandbox/powershell/routes.ts), with the
# parameters PowerShell bound; the answer is the cmdlet's output (typed values marked as in values.ts) or its error,
# thrown as a terminating error of the calling cmdlet, as the real module throws it.
# Not loaded on a Connect server: there the real modules answer. Needs PowerShell 7.5+ (ConvertFrom-Json -DateKind
# String keeps dates as text until they are converted with their Kind).

Set-StrictMode -Version 1.0
$script:SandboxHttp = $null
$script:SandboxCommon = [System.Collections.Generic.HashSet[string]]::new([string[]]@(
    [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters), [System.StringComparer]::OrdinalIgnoreCase)

function ConvertTo-SandboxParameterValue($Value) {
  if ($null -eq $Value) { return $null }
  if ($Value -is [System.Management.Automation.SwitchParameter]) { return $Value.IsPresent }
  # Credentials and secure strings never leave the process: the sandbox needs only who, never a secret.
  if ($Value -is [System.Management.Automation.PSCredential]) { return $Value.UserName }
  if ($Value -is [System.Security.SecureString]) { return '(secure string)' }
  if ($Value -is [timespan]) { return $Value.ToString('c') }
  if ($Value -is [guid]) { return $Value.ToString() }
  if ($Value -is [datetime]) { return $Value.ToUniversalTime().ToString('o') }
  if ($Value -is [enum]) { return $Value.ToString() }
  if ($Value -is [string] -or $Value -is [bool] -or $Value -is [int] -or $Value -is [long] -or $Value -is [double] -or $Value -is [uint32]) { return $Value }
  if ($Value -is [System.Collections.IDictionary]) {
    $h = [ordered]@{}
    foreach ($k in $Value.Keys) { $h[[string]$k] = ConvertTo-SandboxParameterValue $Value[$k] }
    return $h
  }
  if ($Value -is [System.Collections.IEnumerable]) { return , @(foreach ($x in $Value) { ConvertTo-SandboxParameterValue $x }) }
  if ($Value.PSObject.Properties['DistinguishedName']) { return [string]$Value.DistinguishedName }
  return [string]$Value
}

# JSON → PowerShell objects: one-key objects { $guid | $bytes | $datetime | $timespan } become typed values; objects
# become PSCustomObjects (keys in order), arrays stay arrays, integers that fit become [int].
function ConvertFrom-SandboxValue($Value) {
  if ($null -eq $Value) { return $null }
  if ($Value -is [System.Collections.IDictionary]) {
    if ($Value.Count -le 2) {
      if ($Value.Contains('$guid')) { return [guid][string]$Value['$guid'] }
      if ($Value.Contains('$bytes')) { return , [Convert]::FromBase64String([string]$Value['$bytes']) }
      if ($Value.Contains('$timespan')) { return [timespan]::Parse([string]$Value['$timespan'], [cultureinfo]::InvariantCulture) }
      if ($Value.Contains('$datetime')) {
        $d = [datetime]::Parse([string]$Value['$datetime'], [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::RoundtripKind)
        switch ([string]$Value['kind']) {
          'Local' { return $d.ToLocalTime() }
          'Unspecified' { return [datetime]::SpecifyKind($d, 'Unspecified') }
          default { return [datetime]::SpecifyKind($d, 'Utc') }
        }
      }
    }
    $o = [ordered]@{}
    foreach ($k in $Value.Keys) { $o[[string]$k] = ConvertFrom-SandboxValue $Value[$k] }
    return [pscustomobject]$o
  }
  if ($Value -is [System.Collections.IList]) { return , @(foreach ($x in $Value) { ConvertFrom-SandboxValue $x }) }
  if ($Value -is [long] -and $Value -ge [int]::MinValue -and $Value -le [int]::MaxValue) { return [int]$Value }
  return $Value
}

# Sends one call; answers the output as it came (JSON, not converted) or throws the cmdlet's error through $Cmdlet.
function Invoke-SandboxCmdlet {
  param(
    [Parameter(Mandatory = $true)] [string] $Name,
    [System.Collections.IDictionary] $Parameters = @{},
    [System.Management.Automation.PSCmdlet] $Cmdlet
  )
  $base = $env:CUTOVER_SANDBOX_ONPREM_URL
  if ([string]::IsNullOrEmpty($base)) {
    throw ($Name + ': this is the cutover sandbox''s simulated module, and CUTOVER_SANDBOX_ONPREM_URL (the simulated server) is not set')
  }
  $bound = [ordered]@{}
  foreach ($k in $Parameters.Keys) { if (-not $script:SandboxCommon.Contains([string]$k)) { $bound[[string]$k] = ConvertTo-SandboxParameterValue $Parameters[$k] } }
  $body = ConvertTo-Json -InputObject ([ordered]@{ parameters = $bound }) -Depth 30 -Compress
  if ($null -eq $script:SandboxHttp) { $script:SandboxHttp = [System.Net.Http.HttpClient]::new() }
  $content = [System.Net.Http.StringContent]::new($body, [System.Text.Encoding]::UTF8, 'application/json')
  try {
    $response = $script:SandboxHttp.PostAsync($base.TrimEnd('/') + '/cmdlets/' + $Name, $content).GetAwaiter().GetResult()
    $text = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
  } catch {
    throw ($Name + ': the sandbox''s simulated server at ' + $base + ' did not answer: ' + $_.Exception.Message)
  }
  $doc = ConvertFrom-Json -InputObject $text -AsHashtable -DateKind String
  if ($doc.Contains('error')) {
    $e = $doc['error']
    $category = [System.Management.Automation.ErrorCategory]::NotSpecified
    [void][System.Enum]::TryParse([System.Management.Automation.ErrorCategory], [string]$e['category'], [ref]$category)
    $record = New-Object System.Management.Automation.ErrorRecord -ArgumentList (New-Object System.InvalidOperationException -ArgumentList ([string]$e['message'])), ([string]$e['errorId']), $category, $null
    if ($null -ne $Cmdlet) { $Cmdlet.ThrowTerminatingError($record) }
    throw $record
  }
  return $doc['output']
}

# Writes a cmdlet's output: each element of a list, or the single object.
function Write-SandboxOutput($Output) {
  if ($null -eq $Output) { return }
  if ($Output -is [System.Collections.IList]) { foreach ($x in $Output) { ConvertFrom-SandboxValue $x } }
  else { ConvertFrom-SandboxValue $Output }
}
