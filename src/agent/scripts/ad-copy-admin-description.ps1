#Requires -Version 5.1
# ad-copy-admin-description: for groups under an OU with adminDescription, copy it into msDS-ExternalDirectoryObjectId
# (Microsoft's migrate-group-writeback step 1). Dry run reports only; apply uses -Add, so an existing value is never
# overwritten; a different existing value is reported as a conflict. Parameters: { ou, dryRun }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ActiveDirectory
  $dryRun = $p.params.dryRun
  if ($dryRun -isnot [bool]) { Stop-Cutover 'invalid-params' 'dryRun must be true or false' }
  $groups = @(Get-ADGroup -SearchBase $p.params.ou -SearchScope Subtree -LDAPFilter '(adminDescription=*)' `
    -Properties @('adminDescription', 'msDS-ExternalDirectoryObjectId') -ResultPageSize 1000 -ResultSetSize $null)
  $changes = @()
  $conflicts = @()
  foreach ($g in $groups) {
    $current = $g.'msDS-ExternalDirectoryObjectId'
    if ($null -eq $current) { $changes += [ordered]@{ dn = [string]$g.DistinguishedName; from = $null; to = [string]$g.adminDescription } }
    elseif ([string]$current -ne [string]$g.adminDescription) {
      $conflicts += [ordered]@{ dn = [string]$g.DistinguishedName; adminDescription = [string]$g.adminDescription; externalDirectoryObjectId = [string]$current }
    }
  }
  if (-not $dryRun) {
    foreach ($c in $changes) { Set-ADGroup -Identity $c.dn -Add @{ 'msDS-ExternalDirectoryObjectId' = $c.to } }
  }
  Write-CutoverResult ([ordered]@{ changes = @($changes); conflicts = @($conflicts); applied = (-not $dryRun) })
} catch { Write-CutoverError $_ }
