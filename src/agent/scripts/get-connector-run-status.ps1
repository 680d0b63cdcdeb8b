#Requires -Version 5.1
# get-connector-run-status: Get-ADSyncConnectorRunStatus (empty when idle) plus SyncCycleInProgress. Parameters: none.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $running = @(Get-ADSyncConnectorRunStatus | ForEach-Object { [ordered]@{ RunState = [string]$_.RunState; ConnectorName = [string]$_.ConnectorName } })
  $inProgress = [bool](Get-ADSyncScheduler).SyncCycleInProgress
  Write-CutoverResult ([ordered]@{ busy = ($inProgress -or $running.Count -gt 0); running = $running })
} catch { Write-CutoverError $_ }
