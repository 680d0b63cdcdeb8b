# The action scripts and the runner's installer run on the Connect server's Windows PowerShell 5.1 (powershell.exe,
# where the ADSync module lives), while these tests run them on PowerShell 7. This walks each script's syntax tree,
# as PowerShell's own parser builds it, and refuses what 5.1 cannot run: PowerShell 7-only syntax (ternary ?:, ??,
# ??=, ?. and ?[], && and || pipeline chains, a trailing & background operator, clean blocks), 7-only parameters and
# cmdlets, 7-only automatic variables, and .NET APIs that exist only on .NET Core.

BeforeDiscovery {
  $repo = $env:CUTOVER_REPO
  $script:Files = @(Get-ChildItem -LiteralPath (Join-Path $repo 'src/agent/scripts') -Filter '*.ps1' | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })
  $script:Files += @{ Name = 'infra/runner/install.ps1'; Path = (Join-Path $repo 'infra/runner/install.ps1') }
}

BeforeAll {
  # Parameters that appeared after Windows PowerShell 5.1, by cmdlet (PowerShell-Docs, "What's new" 6.0-7.5).
  $script:NewParameters = @{
    'ConvertFrom-Json' = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
    'ConvertTo-Json'   = @('AsArray', 'EnumsAsStrings', 'EscapeHandling')
    'Get-Content'      = @('AsByteStream')
    'Set-Content'      = @('AsByteStream')
    'Join-Path'        = @('AdditionalChildPath')
    'ForEach-Object'   = @('Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob', 'UseNewRunspace')
    'Select-Object'    = @('SkipIndex')
    'Split-Path'       = @('LeafBase', 'Extension')
    'Test-Connection'  = @('TargetName', 'Ping', 'Repeat', 'TcpPort', 'MtuSize', 'Traceroute')
    'Get-ChildItem'    = @('FollowSymlink')
    'Invoke-WebRequest' = @('SkipCertificateCheck', 'Authentication', 'Token', 'SslProtocol', 'Resume', 'SkipHttpErrorCheck', 'StatusCodeVariable', 'RetryIntervalSec', 'MaximumRetryCount')
    'Invoke-RestMethod' = @('SkipCertificateCheck', 'Authentication', 'Token', 'SslProtocol', 'Resume', 'SkipHttpErrorCheck', 'StatusCodeVariable', 'RetryIntervalSec', 'MaximumRetryCount', 'ResponseHeadersVariable', 'FollowRelLink')
    'Get-Date'         = @('AsUTC')
  }
  # Cmdlets that do not exist in Windows PowerShell 5.1.
  $script:NewCmdlets = @('Test-Json', 'Get-Error', 'ConvertFrom-Markdown', 'Show-Markdown', 'Remove-Alias', 'Remove-Service', 'Get-Uptime', 'Join-String',
    'ConvertTo-CliXml', 'ConvertFrom-CliXml', 'Start-ThreadJob', 'Get-SecureRandom', 'Clear-RecycleBin', 'Get-ExperimentalFeature', 'Enable-ExperimentalFeature')
  # Encodings 5.1 does not know (its -Encoding takes a FileSystemCmdletProviderEncoding).
  $script:NewEncodings = @('utf8NoBOM', 'utf8BOM', 'ansi', 'latin1')
  $script:NewVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle', 'EnabledExperimentalFeatures', 'PSNativeCommandArgumentPassing', 'PSNativeCommandUseErrorActionPreference')
  # .NET Core-only APIs PowerShell scripts reach for (absent from .NET Framework 4.x).
  $script:CoreOnly = @('System.IO.Path]::GetRelativePath', 'System.IO.Path]::Join', 'Convert]::ToHexString', 'Convert]::FromHexString', 'System.Text.Json', 'System.Range', 'System.Index]', 'string]::Create',
    'System.Net.Http.SocketsHttpHandler', 'System.HashCode', 'System.Random]::Shared', 'System.Threading.Tasks.Parallel]::ForEachAsync', 'System.IO.File]::ReadAllTextAsync', 'System.Math]::Clamp')

  function Get-Ps7Findings([string] $Path) {
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
    $out = [System.Collections.Generic.List[string]]::new()
    foreach ($e in @($errors)) { $out.Add('line ' + $e.Extent.StartLineNumber + ': parse error: ' + $e.Message) }
    $at = { param($n) 'line ' + $n.Extent.StartLineNumber + ': ' }
    $all = $ast.FindAll({ $true }, $true)
    foreach ($n in $all) {
      switch ($n.GetType().Name) {
        'TernaryExpressionAst' { $out.Add((& $at $n) + 'ternary operator ?: (PowerShell 7)') }
        'PipelineChainAst' { $out.Add((& $at $n) + 'pipeline chain ' + $n.Operator + ' (&& / ||, PowerShell 7)') }
        'BinaryExpressionAst' { if ([string]$n.Operator -eq 'QuestionQuestion') { $out.Add((& $at $n) + 'null-coalescing ?? (PowerShell 7)') } }
        'AssignmentStatementAst' { if ([string]$n.Operator -eq 'QuestionQuestionEquals') { $out.Add((& $at $n) + 'null-coalescing assignment ??= (PowerShell 7)') } }
        'MemberExpressionAst' { if ($n.NullConditional) { $out.Add((& $at $n) + 'null-conditional member access ?. (PowerShell 7)') } }
        'InvokeMemberExpressionAst' { if ($n.NullConditional) { $out.Add((& $at $n) + 'null-conditional method call ?. (PowerShell 7)') } }
        'IndexExpressionAst' { if ($n.NullConditional) { $out.Add((& $at $n) + 'null-conditional index ?[] (PowerShell 7)') } }
        'PipelineAst' { if ($n.Background) { $out.Add((& $at $n) + 'background operator & (PowerShell 6+)') } }
        'ScriptBlockAst' { if ($null -ne $n.CleanBlock) { $out.Add((& $at $n) + 'clean block (PowerShell 7.3)') } }
        'VariableExpressionAst' { if ($NewVariables -contains $n.VariablePath.UserPath) { $out.Add((& $at $n) + '$' + $n.VariablePath.UserPath + ' (not defined in Windows PowerShell 5.1)') } }
        'CommandAst' {
          $name = $n.GetCommandName()
          if ($null -eq $name) { break }
          if ($NewCmdlets -contains $name) { $out.Add((& $at $n) + $name + ' (not in Windows PowerShell 5.1)') }
          $canonical = @{ '%' = 'ForEach-Object'; 'foreach' = 'ForEach-Object'; 'select' = 'Select-Object' }[$name]
          if ($canonical) { $name = $canonical }
          $params = @($n.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] } | ForEach-Object ParameterName)
          if ($NewParameters.ContainsKey($name)) {
            foreach ($p in $params) { foreach ($np in $NewParameters[$name]) { if ($np.StartsWith($p, [System.StringComparison]::OrdinalIgnoreCase) -and $p.Length -ge [Math]::Min(3, $np.Length)) { $out.Add((& $at $n) + $name + ' -' + $np + ' (PowerShell 6+)') } } }
          }
          if ($name -eq 'Join-Path') {
            $positional = @($n.CommandElements | Select-Object -Skip 1 | Where-Object { $_ -isnot [System.Management.Automation.Language.CommandParameterAst] })
            if ($positional.Count -gt 2 -and $params.Count -eq 0) { $out.Add((& $at $n) + 'Join-Path with more than two paths (PowerShell 6+)') }
          }
          for ($i = 0; $i -lt $n.CommandElements.Count - 1; $i++) {
            $el = $n.CommandElements[$i]
            if ($el -is [System.Management.Automation.Language.CommandParameterAst] -and $el.ParameterName -eq 'Encoding') {
              $value = $n.CommandElements[$i + 1]
              if ($value -is [System.Management.Automation.Language.StringConstantExpressionAst] -and $NewEncodings -contains $value.Value) { $out.Add((& $at $n) + '-Encoding ' + $value.Value + ' (PowerShell 6+)') }
            }
          }
        }
        'TypeExpressionAst' { foreach ($c in $CoreOnly) { if (($n.Parent.Extent.Text) -like ('*' + $c + '*')) { $out.Add((& $at $n) + $c + ' (.NET Core only)') } } }
      }
    }
    $requires = $ast.ScriptRequirements
    if ($null -ne $requires) {
      if ($null -ne $requires.RequiredPSVersion -and $requires.RequiredPSVersion -gt [version]'5.1') { $out.Add('#Requires -Version ' + $requires.RequiredPSVersion + ' (above 5.1)') }
      if (@($requires.RequiredPSEditions) -contains 'Core') { $out.Add('#Requires -PSEdition Core') }
    }
    return @($out | Select-Object -Unique)
  }
}

Describe 'Windows PowerShell 5.1 compatibility of <Name>' -ForEach $Files {
  It 'parses, and uses nothing PowerShell 5.1 lacks' {
    Get-Ps7Findings $Path | Should -BeNullOrEmpty
  }
  It 'requires no PowerShell newer than 5.1 (an action script says #Requires -Version 5.1)' {
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$null, [ref]$null)
    $required = if ($null -eq $ast.ScriptRequirements) { $null } else { $ast.ScriptRequirements.RequiredPSVersion }
    if ($Name -like 'infra/*') { ($null -eq $required -or $required -le [version]'5.1') | Should -BeTrue }
    else { $required | Should -Be ([version]'5.1') }
  }
}

Describe 'the 5.1 check catches what it is meant to catch' {
  It 'refuses each PowerShell 7-only construct in a script' {
    $cases = [ordered]@{
      'ternary ?:'          = '$a = $true ? 1 : 2'
      '?? '                 = '$a = $null ?? 1'
      '??='                 = '$a ??= 1'
      '?.'                  = '$a = ${b}?.Length'
      '?[]'                 = '$a = ${b}?[0]'
      '&& / ||'             = 'Get-Date && Get-Date'
      'background &'        = 'Get-Date &'
      'clean block'         = 'function f { process { 1 } clean { 2 } }'
      'ForEach-Object -Parallel' = '1..2 | ForEach-Object -Parallel { $_ }'
      'ConvertFrom-Json -AsHashtable' = '$x = ''{}'' | ConvertFrom-Json -AsHashtable'
      'Join-Path with three paths' = 'Join-Path a b c'
      'utf8NoBOM'           = 'Set-Content -Path x -Value y -Encoding utf8NoBOM'
      '$IsWindows'          = 'if ($IsWindows) { 1 }'
      'Get-Error'           = 'Get-Error'
      'GetRelativePath'     = '[System.IO.Path]::GetRelativePath(''a'', ''b'')'
      '#Requires 7'         = "#Requires -Version 7.2`n1"
    }
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-ps51-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $dir | Out-Null
    foreach ($k in $cases.Keys) {
      $file = Join-Path $dir 'case.ps1'
      Set-Content -LiteralPath $file -Value $cases[$k]
      @(Get-Ps7Findings $file).Count | Should -BeGreaterThan 0 -Because ('the check must refuse ' + $k)
    }
    Set-Content -LiteralPath (Join-Path $dir 'ok.ps1') -Value "#Requires -Version 5.1`n`$a = if (`$b) { 1 } else { 2 }`n`$c = @(1, 2) | ForEach-Object { `$_ }"
    Get-Ps7Findings (Join-Path $dir 'ok.ps1') | Should -BeNullOrEmpty
    Remove-Item -LiteralPath $dir -Recurse -Force
  }
}
