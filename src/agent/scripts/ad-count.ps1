#Requires -Version 5.1
# ad-count: users, groups and contacts under an OU (ActiveDirectory module, paged at 1000). Parameters: { ou }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ActiveDirectory
  $counts = [ordered]@{ ou = [string]$p.params.ou }
  foreach ($class in @('user', 'group', 'contact')) {
    $n = @(Get-ADObject -SearchBase $p.params.ou -SearchScope Subtree -LDAPFilter $script:CutoverClassFilters[$class] -ResultPageSize 1000 -ResultSetSize $null).Count
    $counts[$class + 's'] = [int]$n
  }
  Write-CutoverResult $counts
} catch { Write-CutoverError $_ }
