#Requires -Version 5.1
# set-adsync-service: stop and disable the ADSync service (Stop-Service; Set-Service -StartupType Disabled) or set it
# to Automatic and start it. Stopped, Connect runs nothing: no sync cycle, no password hash sync, no writeback.
# Refuses to stop it while a sync cycle runs. Parameters: { running }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  $running = $p.params.running
  if ($running -isnot [bool]) { Stop-Cutover 'invalid-params' 'running must be true or false' }
  $previous = Get-CutoverAdsyncService
  if ($running) {
    Set-Service -Name 'ADSync' -StartupType Automatic
    Start-Service -Name 'ADSync'
  } else {
    if ($previous.status -eq 'Running') {
      Import-Module ADSync
      if (Test-CutoverSyncBusy) { Stop-Cutover 'refused' 'a sync cycle is in progress; stop the service after it ends' }
    }
    Stop-Service -Name 'ADSync'
    Set-Service -Name 'ADSync' -StartupType Disabled
  }
  Write-CutoverResult ([ordered]@{ previous = $previous; current = (Get-CutoverAdsyncService) })
} catch { Write-CutoverError $_ }
