#Requires -Version 5.1
# forest-object-count: users, groups and contacts in every domain of the forest (Get-ADForest), each counted on one of
# its own domain controllers (-Server <domain>), critical system objects and MSOL_/AAD_ accounts left out. DirSync
# synchronizes the forest, so this is the count its upgrade path depends on (seed 003). Parameters: {}.
. (Join-Path $PSScriptRoot '_common.ps1')
function Measure-CutoverObjects([string]$Server, [string]$Base, [string]$Filter) {
  $skip = '(!(isCriticalSystemObject=TRUE))(!(sAMAccountName=MSOL_*))(!(sAMAccountName=AAD_*))'
  return @(Get-ADObject -Server $Server -SearchBase $Base -SearchScope Subtree -LDAPFilter ('(&' + $Filter + $skip + ')') -ResultPageSize 1000 -ResultSetSize $null).Count
}
try {
  $null = Read-CutoverInput
  Import-Module ActiveDirectory
  $domains = @()
  $total = 0
  foreach ($name in @((Get-ADForest).Domains)) {
    $d = Get-ADDomain -Server $name
    $users = Measure-CutoverObjects $name $d.DistinguishedName $script:CutoverClassFilters['user']
    $groups = Measure-CutoverObjects $name $d.DistinguishedName $script:CutoverClassFilters['group']
    $contacts = Measure-CutoverObjects $name $d.DistinguishedName $script:CutoverClassFilters['contact']
    $n = $users + $groups + $contacts
    $total += $n
    $domains += [ordered]@{ domain = ([string]$d.DNSRoot).ToLowerInvariant(); dn = [string]$d.DistinguishedName; users = [int]$users; groups = [int]$groups; contacts = [int]$contacts; total = [int]$n }
  }
  Write-CutoverResult ([ordered]@{ domains = @($domains); total = [int]$total })
} catch { Write-CutoverError $_ }
