#Requires -Version 5.1
# get-last-full-runs: for each connector, its latest Full Import and Full Synchronization runs, however many delta runs
# followed them: Get-ADSyncRunProfileResult -ConnectorId <id> over the retained history (PurgeRunHistoryInterval,
# 7 days by default: about 336 cycles, so 5,000 runs per connector covers it). Parameters: {}.
. (Join-Path $PSScriptRoot '_common.ps1')
function ConvertTo-CutoverRunView($Run, $Connector, [string]$Id) {
  if ($null -eq $Run) { return $null }
  return [ordered]@{ ConnectorName = [string]$Connector.Name; ConnectorId = $Id; RunProfileName = [string]$Run.RunProfileName; Result = [string]$Run.Result; StartDate = (ConvertFrom-CutoverRunDate $Run.StartDate); EndDate = (ConvertFrom-CutoverRunDate $Run.EndDate); IsRunComplete = [bool]$Run.IsRunComplete }
}
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $out = @()
  foreach ($c in @(Get-ADSyncConnector)) {
    $id = ([guid]$c.Identifier).ToString()
    $runs = @(Get-ADSyncRunProfileResult -ConnectorId $c.Identifier -NumberRequested 5000)
    $fi = $runs | Where-Object { $_.RunProfileName -eq 'Full Import' } | Select-Object -First 1
    $fs = $runs | Where-Object { $_.RunProfileName -eq 'Full Synchronization' } | Select-Object -First 1
    $type = 'entra'
    if ([string]$c.ConnectorTypeName -eq 'AD') { $type = 'ad' }
    $out += [ordered]@{ ConnectorName = [string]$c.Name; ConnectorId = $id; type = $type; fullImport = (ConvertTo-CutoverRunView $fi $c $id); fullSync = (ConvertTo-CutoverRunView $fs $c $id); runsRead = [int]$runs.Count }
  }
  Write-CutoverResult ([ordered]@{ connectors = @($out) })
} catch { Write-CutoverError $_ }
