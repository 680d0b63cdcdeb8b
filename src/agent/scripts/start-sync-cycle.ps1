#Requires -Version 5.1
# start-sync-cycle: Start-ADSyncSyncCycle -PolicyType Delta|Initial. Parameters: { policyType }.
# The cmdlet only signals the scheduler, so this waits for the cycle to START (SyncCycleInProgress, or a run-history
# entry that was not there before) and then to END, and fails naming each run unless every run ended 'success'.
# Waits: idle before starting 30 min + start 10 min + end 4 h = 4 h 40 min, under the executor's 5 h kill.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $policy = [string]$p.params.policyType
  if (@('Delta', 'Initial') -notcontains $policy) { Stop-Cutover 'invalid-params' 'policyType must be Delta or Initial' }
  Wait-CutoverSyncIdle 1800
  $before = @{}
  foreach ($r in @(Get-ADSyncRunProfileResult -NumberRequested 100)) { $before[([guid]$r.RunHistoryId).ToString()] = $true }
  $requested = (Get-Date).ToUniversalTime()
  $start = Start-ADSyncSyncCycle -PolicyType $policy
  $answer = [string]$start.Result
  if ($answer -and $answer -ne 'Success') { Stop-Cutover 'failed' ('Start-ADSyncSyncCycle answered ' + $answer) }
  $deadline = (Get-Date).AddMinutes(10)
  $started = $false
  while (-not $started) {
    if ([bool](Get-ADSyncScheduler).SyncCycleInProgress) { $started = $true; break }
    $new = @(Get-ADSyncRunProfileResult -NumberRequested 20 | Where-Object { -not $before.ContainsKey(([guid]$_.RunHistoryId).ToString()) })
    if ($new.Count -gt 0) { $started = $true; break }
    if ((Get-Date) -gt $deadline) { Stop-Cutover 'failed' ('the ' + $policy + ' sync cycle did not start within 10 minutes of Start-ADSyncSyncCycle') }
    Start-Sleep -Seconds 5
  }
  Wait-CutoverSyncIdle 14400
  $ended = (Get-Date).ToUniversalTime()
  $names = @{}
  foreach ($c in @(Get-ADSyncConnector)) { $names[([guid]$c.Identifier).ToString()] = [string]$c.Name }
  $runs = @(Get-ADSyncRunProfileResult -NumberRequested 100 | Where-Object { -not $before.ContainsKey(([guid]$_.RunHistoryId).ToString()) } | ForEach-Object {
    $id = ([guid]$_.ConnectorId).ToString()
    [ordered]@{
      ConnectorName = [string]$names[$id]; ConnectorId = $id; RunProfileName = [string]$_.RunProfileName; Result = [string]$_.Result
      StartDate = (ConvertFrom-CutoverRunDate $_.StartDate); EndDate = (ConvertFrom-CutoverRunDate $_.EndDate); IsRunComplete = [bool]$_.IsRunComplete
    }
  })
  [array]::Reverse($runs)
  $failed = @($runs | Where-Object { $_.Result -ne 'success' })
  if ($failed.Count -gt 0 -or $runs.Count -eq 0) {
    $described = @($runs | ForEach-Object { $_.RunProfileName + ' on ' + $_.ConnectorName + ': ' + $_.Result }) -join '; '
    if ($runs.Count -eq 0) { $described = 'no run of this cycle is in the run history' }
    Stop-Cutover 'failed' ('the ' + $policy + ' sync cycle did not succeed: ' + $described)
  }
  Write-CutoverResult ([ordered]@{ result = 'Success'; policyType = $policy; startedAt = $requested.ToString('o'); endedAt = $ended.ToString('o'); runs = $runs })
} catch { Write-CutoverError $_ }
