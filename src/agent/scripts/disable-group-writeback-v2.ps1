#Requires -Version 5.1
# disable-group-writeback-v2: Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false. IRREVERSIBLE. Parameters: { confirm: true }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  if ($p.params.confirm -ne $true) { Stop-Cutover 'invalid-params' 'confirm must be true: this change cannot be undone' }
  Import-Module ADSync
  $was = [bool](Get-ADSyncAADCompanyFeature).GroupWritebackV2
  Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false | Out-Null
  $now = [bool](Get-ADSyncAADCompanyFeature).GroupWritebackV2
  if ($now) { Stop-Cutover 'failed' 'GroupWritebackV2 still reads as enabled after Set-ADSyncAADCompanyFeature' }
  Write-CutoverResult ([ordered]@{ wasEnabled = $was; GroupWritebackV2 = $false })
} catch { Write-CutoverError $_ }
