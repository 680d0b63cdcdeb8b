#Requires -Version 5.1
# find-sync-accounts: the sync tools' AD service accounts (MSOL_...) and what their descriptions say. DirSync's wizard
# creates MSOL_AD_SYNC; Entra Connect creates MSOL_<id> described "Account created by Microsoft Azure Active Directory
# Connect with installation identifier ... running on computer ... configured to synchronize to tenant ...". Parameters: {}.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ActiveDirectory
  $accounts = @(Get-ADUser -LDAPFilter '(sAMAccountName=MSOL_*)' -Properties description, whenCreated -ResultPageSize 1000 -ResultSetSize $null | ForEach-Object {
    $d = [string]$_.description
    $tool = 'unknown'
    if ([string]$_.SamAccountName -eq 'MSOL_AD_SYNC' -or $d -match 'Directory Sync tool|\bDirSync\b') { $tool = 'dirsync' }
    elseif ($d -match 'Active Directory Connect|Azure AD Connect|Entra Connect') { $tool = 'entra-connect' }
    elseif ($d -match 'Active Directory Sync Services|Azure AD Sync\b') { $tool = 'azure-ad-sync' }
    $computer = $null
    $m = [regex]::Match($d, 'running on (?:computer )?''?([A-Za-z0-9._-]+)')
    if ($m.Success) { $computer = $m.Groups[1].Value }
    $desc = $null
    if ($d) { $desc = $d }
    [ordered]@{ samAccountName = [string]$_.SamAccountName; dn = [string]$_.DistinguishedName; description = $desc; whenCreated = (ConvertTo-CutoverDate $_.whenCreated); tool = $tool; computer = $computer }
  })
  Write-CutoverResult ([ordered]@{ accounts = $accounts })
} catch { Write-CutoverError $_ }
