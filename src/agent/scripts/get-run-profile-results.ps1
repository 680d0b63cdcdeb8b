#Requires -Version 5.1
# get-run-profile-results: Get-ADSyncRunProfileResult. Parameters: { limit }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $names = @{}
  foreach ($c in @(Get-ADSyncConnector)) { $names[([guid]$c.Identifier).ToString()] = [string]$c.Name }
  $results = @(Get-ADSyncRunProfileResult -NumberRequested ([int]$p.params.limit) | ForEach-Object {
    $id = ([guid]$_.ConnectorId).ToString()
    [ordered]@{
      ConnectorName = [string]$names[$id]
      ConnectorId = $id
      RunProfileName = [string]$_.RunProfileName
      Result = [string]$_.Result
      StartDate = (ConvertFrom-CutoverRunDate $_.StartDate)
      EndDate = (ConvertFrom-CutoverRunDate $_.EndDate)
      IsRunComplete = [bool]$_.IsRunComplete
    }
  })
  Write-CutoverResult ([ordered]@{ results = $results })
} catch { Write-CutoverError $_ }
