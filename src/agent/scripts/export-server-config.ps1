#Requires -Version 5.1
# export-server-config: Get-ADSyncServerConfiguration into a new timestamped folder under
# %ProgramData%\cutover\exports; returns its files with SHA-256 hashes. Parameters: { label }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  $label = [string]$p.params.label
  if ($label -notmatch '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$') { Stop-Cutover 'invalid-params' 'label must be letters, digits, ".", "_" or "-"' }
  Import-Module ADSync
  $root = Join-Path $env:ProgramData 'cutover\exports'
  $taken = (Get-Date).ToUniversalTime()
  $folderName = 'Exported-ServerConfiguration-' + $label + '-' + $taken.ToString('yyyyMMddTHHmmssZ')
  $folder = Join-Path $root $folderName
  if (Test-Path -LiteralPath $folder) { Stop-Cutover 'conflict' 'an export with this label was taken this second already' }
  New-Item -ItemType Directory -Path $folder -Force | Out-Null
  Get-ADSyncServerConfiguration -Path $folder | Out-Null
  $files = @(Get-ChildItem -LiteralPath $folder -Recurse -File | Sort-Object FullName | ForEach-Object {
    [ordered]@{
      path = $_.FullName.Substring($folder.Length + 1).Replace('\', '/')
      sha256 = (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash.ToLowerInvariant()
      bytes = [int64]$_.Length
    }
  })
  Write-CutoverResult ([ordered]@{ folder = $folderName; takenAt = $taken.ToString('o'); files = $files })
} catch { Write-CutoverError $_ }
