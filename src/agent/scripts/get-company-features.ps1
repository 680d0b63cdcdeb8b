#Requires -Version 5.1
# get-company-features: Get-ADSyncAADCompanyFeature. Parameters: none.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $f = Get-ADSyncAADCompanyFeature
  $names = @($f.PSObject.Properties | ForEach-Object { $_.Name })
  if ($names -notcontains 'GroupWritebackV2') { Stop-Cutover 'failed' 'Get-ADSyncAADCompanyFeature has no GroupWritebackV2 property (Connect older than 1.6.2.4?)' }
  Write-CutoverResult ([ordered]@{
    GroupWritebackV2 = [bool]$f.GroupWritebackV2
    PasswordHashSync = [bool]$f.PasswordHashSync
    UnifiedGroupWriteback = [bool]$f.UnifiedGroupWriteback
    UserWriteback = [bool]$f.UserWriteback
    DeviceWriteback = [bool]$f.DeviceWriteback
  })
} catch { Write-CutoverError $_ }
