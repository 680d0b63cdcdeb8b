#Requires -Version 5.1
# ad-check-schema: schema objectVersion (87 = Windows Server 2016) and msDS-ExternalDirectoryObjectId. Parameters: none.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ActiveDirectory
  $schemaNc = (Get-ADRootDSE).schemaNamingContext
  $version = [int](Get-ADObject -Identity $schemaNc -Properties objectVersion).objectVersion
  $attr = @(Get-ADObject -SearchBase $schemaNc -SearchScope OneLevel -LDAPFilter '(lDAPDisplayName=msDS-ExternalDirectoryObjectId)')
  Write-CutoverResult ([ordered]@{ hasExternalDirectoryObjectId = ($attr.Count -gt 0); objectVersion = $version; windowsServer2016OrLater = ($version -ge 87) })
} catch { Write-CutoverError $_ }
