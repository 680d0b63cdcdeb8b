#Requires -Version 5.1
# ad-export-identities: identity data of the objects under an OU for reconciliation. Parameters: { ou, classes }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ActiveDirectory
  $properties = @('objectGUID', 'mS-DS-ConsistencyGuid', 'userPrincipalName', 'mail', 'proxyAddresses', 'displayName', 'objectClass')
  $objects = @()
  foreach ($class in @($p.params.classes)) {
    if (-not $script:CutoverClassFilters.ContainsKey([string]$class)) { Stop-Cutover 'invalid-params' 'classes must be user, group or contact' }
    $objects += @(Get-ADObject -SearchBase $p.params.ou -SearchScope Subtree -LDAPFilter $script:CutoverClassFilters[[string]$class] `
      -Properties $properties -ResultPageSize 1000 -ResultSetSize $null | ForEach-Object {
      [ordered]@{
        dn = [string]$_.DistinguishedName
        objectClass = [string]$class
        objectGUID = (ConvertTo-CutoverGuid $_.objectGUID)
        consistencyGuid = (ConvertTo-CutoverGuid $_.'mS-DS-ConsistencyGuid')
        userPrincipalName = $_.userPrincipalName
        mail = $_.mail
        proxyAddresses = @($_.proxyAddresses | ForEach-Object { [string]$_ })
        displayName = $_.displayName
      }
    })
  }
  Write-CutoverResult ([ordered]@{ ou = [string]$p.params.ou; count = $objects.Count; objects = $objects })
} catch { Write-CutoverError $_ }
