#Requires -Version 5.1
# get-export-deletion-threshold: Get-ADSyncExportDeletionThreshold. Parameters: none.
# Its -AADUserName is mandatory ("Required: True", reference-connect-adsync.md) and it then signs in to Entra
# interactively, which a runner's service account cannot do. Under -NonInteractive PowerShell refuses the bare call
# with 'Cannot process command because of one or more missing mandatory parameters: AADUserName.'; that message is the
# result. Read accidentalDeletionPrevention from Graph onPremisesSynchronization instead.
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
