#Requires -Version 5.1
# get-export-deletion-threshold: Get-ADSyncExportDeletionThreshold. Parameters: none.
# Some Connect builds ask for Entra credentials here; the runner's service account cannot answer a prompt, so
# on those builds this read fails with the cmdlet's own message.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $t = Get-ADSyncExportDeletionThreshold
  Write-CutoverResult ([ordered]@{
    DeletionPrevention = [int]$t.DeletionPrevention
    ThresholdPercentage = [int]$t.ThresholdPercentage
    ThresholdCount = [int]$t.ThresholdCount
  })
} catch { Write-CutoverError $_ }
