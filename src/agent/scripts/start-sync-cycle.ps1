#Requires -Version 5.1
# start-sync-cycle: Start-ADSyncSyncCycle -PolicyType Delta|Initial, then wait for the cycle to end. Parameters: { policyType }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $policy = [string]$p.params.policyType
  if (@('Delta', 'Initial') -notcontains $policy) { Stop-Cutover 'invalid-params' 'policyType must be Delta or Initial' }
  Wait-CutoverSyncIdle 7200
  $started = (Get-Date).ToUniversalTime()
  $start = Start-ADSyncSyncCycle -PolicyType $policy
  $result = [string]$start.Result
  if ($result -and $result -ne 'Success') { Stop-Cutover 'failed' ('Start-ADSyncSyncCycle answered ' + $result) }
  Start-Sleep -Seconds 5
  Wait-CutoverSyncIdle 14400
  $ended = (Get-Date).ToUniversalTime()
  $names = @{}
  foreach ($c in @(Get-ADSyncConnector)) { $names[([guid]$c.Identifier).ToString()] = [string]$c.Name }
  $runs = @(Get-ADSyncRunProfileResult -NumberRequested 20 | Where-Object { $_.StartDate -and ([datetime]$_.StartDate).ToUniversalTime() -ge $started.AddSeconds(-5) } | ForEach-Object {
    $id = ([guid]$_.ConnectorId).ToString()
    [ordered]@{
      ConnectorName = [string]$names[$id]; ConnectorId = $id; RunProfileName = [string]$_.RunProfileName; Result = [string]$_.Result
      StartDate = (ConvertTo-CutoverDate $_.StartDate); EndDate = (ConvertTo-CutoverDate $_.EndDate); IsRunComplete = [bool]$_.IsRunComplete
    }
  })
  $overall = 'Success'
  foreach ($r in $runs) { if ($r.Result -ne 'success') { $overall = $r.Result } }
  Write-CutoverResult ([ordered]@{ result = $overall; policyType = $policy; startedAt = $started.ToString('o'); endedAt = $ended.ToString('o'); runs = $runs })
} catch { Write-CutoverError $_ }
