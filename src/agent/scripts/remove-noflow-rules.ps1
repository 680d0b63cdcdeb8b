#Requires -Version 5.1
# remove-noflow-rules: rollback of one batch. Parameters: { params: { migrationId, batch }, identifiers: [guid…] }
# (the derived identifiers of every rule that batch could have created).
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $existing = @{}
  foreach ($r in @(Get-ADSyncRule)) { $existing[([guid]$r.Identifier).ToString()] = $r }
  $removed = @()
  $notPresent = @()
  foreach ($id in @($p.identifiers)) {
    $key = ([guid]$id).ToString()
    if ($existing.ContainsKey($key)) {
      Remove-ADSyncRule -SynchronizationRule $existing[$key] | Out-Null
      $removed += $key
    } else { $notPresent += $key }
  }
  Write-CutoverResult ([ordered]@{ removed = @($removed); notPresent = @($notPresent) })
} catch { Write-CutoverError $_ }
