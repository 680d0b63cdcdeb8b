#Requires -Version 5.1
# get-adsync-service: Get-Service ADSync (status) and Win32_Service (start mode). Parameters: none.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Write-CutoverResult (Get-CutoverAdsyncService)
} catch { Write-CutoverError $_ }
