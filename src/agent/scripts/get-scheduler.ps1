#Requires -Version 5.1
# get-scheduler: Get-ADSyncScheduler. Parameters: none.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $s = Get-ADSyncScheduler
  Write-CutoverResult ([ordered]@{
    SyncCycleEnabled = [bool]$s.SyncCycleEnabled
    StagingModeEnabled = [bool]$s.StagingModeEnabled
    SyncCycleInProgress = [bool]$s.SyncCycleInProgress
    SchedulerSuspended = [bool]$s.SchedulerSuspended
    MaintenanceEnabled = [bool]$s.MaintenanceEnabled
    NextSyncCycleStartTimeInUTC = (ConvertTo-CutoverDate ([datetime]::SpecifyKind([datetime]$s.NextSyncCycleStartTimeInUTC, 'Utc')))
    NextSyncCyclePolicyType = [string]$s.NextSyncCyclePolicyType
    CurrentlyEffectiveSyncCycleInterval = [string]$s.CurrentlyEffectiveSyncCycleInterval
  })
} catch { Write-CutoverError $_ }
