#Requires -Version 5.1
# ad-domain-summary: the whole domain's users, groups and contacts, and its largest groups (ActiveDirectory module).
# Parameters: {} (none). Used for the Cloud Sync assessment (150,000 objects per domain, 50,000 members per group)
# and the DirSync upgrade path (fewer than 50,000 objects: in-place).
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ActiveDirectory
  $domain = Get-ADDomain
  $base = $domain.DistinguishedName
  $users = @(Get-ADObject -SearchBase $base -SearchScope Subtree -LDAPFilter $script:CutoverClassFilters['user'] -ResultPageSize 1000 -ResultSetSize $null).Count
  $contacts = @(Get-ADObject -SearchBase $base -SearchScope Subtree -LDAPFilter $script:CutoverClassFilters['contact'] -ResultPageSize 1000 -ResultSetSize $null).Count
  $groups = @(Get-ADGroup -SearchBase $base -Filter * -Properties member, 'mS-DS-ConsistencyGuid' -ResultPageSize 1000 -ResultSetSize $null)
  $sizes = @($groups | ForEach-Object { [ordered]@{ dn = [string]$_.DistinguishedName; members = [int]@($_.member).Count } } | Sort-Object { $_.members } -Descending | Select-Object -First 5)
  $withoutAnchor = @($groups | Where-Object { -not $_.'mS-DS-ConsistencyGuid' }).Count
  Write-CutoverResult ([ordered]@{
    domain = [string]$domain.DNSRoot
    users = [int]$users
    groups = [int]$groups.Count
    contacts = [int]$contacts
    total = [int]($users + $groups.Count + $contacts)
    largestGroups = $sizes
    groupsWithoutConsistencyGuid = [int]$withoutAnchor
  })
} catch { Write-CutoverError $_ }
