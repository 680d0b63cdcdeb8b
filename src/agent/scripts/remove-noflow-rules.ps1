#Requires -Version 5.1
# remove-noflow-rules: rollback of a migration's no-flow rules, then the AD connector is marked FullSyncRequired
# (Connect takes the objects back only at a Full Synchronization). Parameters: { params: { migrationId },
# identifiers: [guid...], legacyNameMarker } -- the current rule identifiers, and the name marker of the earlier
# per-batch rules (custom rules whose name has the marker followed by the batch number and ')').
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $existing = @{}
  $legacy = @()
  $marker = [string]$p.legacyNameMarker
  foreach ($r in @(Get-ADSyncRule)) {
    $id = ([guid]$r.Identifier).ToString()
    $existing[$id] = $r
    if ($r.IsStandardRule -or [string]::IsNullOrEmpty($marker)) { continue }
    $name = [string]$r.Name
    $at = $name.IndexOf($marker)
    if ($at -gt 0 -and $name.Substring($at + $marker.Length) -match '^[0-9]+\)$') { $legacy += $id }
  }
  $removed = @()
  $notPresent = @()
  foreach ($id in @(@($p.identifiers) + $legacy)) {
    $key = ([guid]$id).ToString()
    if ($existing.ContainsKey($key)) {
      Remove-ADSyncRule -SynchronizationRule $existing[$key] | Out-Null
      $existing.Remove($key)
      $removed += $key
    } elseif ($removed -notcontains $key) { $notPresent += $key }
  }
  Set-CutoverFullSyncRequired (Get-CutoverAdConnector)
  Write-CutoverResult ([ordered]@{ removed = @($removed); notPresent = @($notPresent); fullSyncRequired = $true })
} catch { Write-CutoverError $_ }
