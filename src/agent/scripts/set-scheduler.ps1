#Requires -Version 5.1
# set-scheduler: Set-ADSyncScheduler -SyncCycleEnabled. Parameters: { enabled, waitForIdle }.
# Refuses while a sync cycle runs unless waitForIdle (then waits up to 2 hours).
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $enabled = $p.params.enabled
  if ($enabled -isnot [bool]) { Stop-Cutover 'invalid-params' 'enabled must be true or false' }
  $waited = $false
  if (Test-CutoverSyncBusy) {
    if (-not [bool]$p.params.waitForIdle) { Stop-Cutover 'refused' 'a sync cycle is in progress; retry later or ask to wait for it to end (waitForIdle)' }
    Wait-CutoverSyncIdle 7200
    $waited = $true
  }
  $previous = [bool](Get-ADSyncScheduler).SyncCycleEnabled
  Set-ADSyncScheduler -SyncCycleEnabled $enabled | Out-Null
  $s = Get-ADSyncScheduler
  Write-CutoverResult ([ordered]@{
    previousSyncCycleEnabled = $previous
    waitedForIdle = $waited
    scheduler = [ordered]@{
      SyncCycleEnabled = [bool]$s.SyncCycleEnabled
      StagingModeEnabled = [bool]$s.StagingModeEnabled
      SyncCycleInProgress = [bool]$s.SyncCycleInProgress
      SchedulerSuspended = [bool]$s.SchedulerSuspended
      MaintenanceEnabled = [bool]$s.MaintenanceEnabled
      NextSyncCycleStartTimeInUTC = (ConvertTo-CutoverDate ([datetime]::SpecifyKind([datetime]$s.NextSyncCycleStartTimeInUTC, 'Utc')))
      NextSyncCyclePolicyType = [string]$s.NextSyncCyclePolicyType
      CurrentlyEffectiveSyncCycleInterval = [string]$s.CurrentlyEffectiveSyncCycleInterval
    }
  })
} catch { Write-CutoverError $_ }
