#Requires -Version 5.1
# get-company-features: what the tenant uses, from the Connect side. Parameters: none.
# Get-ADSyncAADCompanyFeature (tshoot-connect-password-hash-synchronization.md); password writeback from
# Get-ADSyncAADPasswordResetConfiguration -Connector <Entra connector name> (.Enabled; SSPR writeback how-to);
# Exchange hybrid from the out-of-box rule the wizard adds for it, 'Out to AD - User Exchange hybrid'
# (named in concept-azure-ad-connect-sync-declarative-provisioning-expressions.md), present and enabled.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $f = Get-ADSyncAADCompanyFeature
  $names = @($f.PSObject.Properties | ForEach-Object { $_.Name })
  if ($names -notcontains 'GroupWritebackV2') { Stop-Cutover 'failed' 'Get-ADSyncAADCompanyFeature has no GroupWritebackV2 property (Connect older than 1.6.2.4?)' }
  $entra = Get-ADSyncConnector -Identifier $script:CutoverEntraConnectorId
  $reset = Get-ADSyncAADPasswordResetConfiguration -Connector ([string]$entra.Name)
  $hybrid = @(Get-ADSyncRule | Where-Object { [string]$_.Name -eq 'Out to AD - User Exchange Hybrid' -and -not [bool]$_.Disabled })
  Write-CutoverResult ([ordered]@{
    GroupWritebackV2 = [bool]$f.GroupWritebackV2
    PasswordHashSync = [bool]$f.PasswordHashSync
    UnifiedGroupWriteback = [bool]$f.UnifiedGroupWriteback
    UserWriteback = [bool]$f.UserWriteback
    DeviceWriteback = [bool]$f.DeviceWriteback
    PasswordWriteback = [bool]$reset.Enabled
    ExchangeHybrid = ($hybrid.Count -gt 0)
  })
} catch { Write-CutoverError $_ }
