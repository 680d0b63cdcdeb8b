#Requires -Version 5.1
# ad-count-by-ou: users (with inetOrgPersons), groups and contacts under a container, per parent container, leaving
# out the excluded containers, AD's critical system objects and the sync tools' own MSOL_/AAD_ accounts (Connect never
# synchronizes those: concept-azure-ad-connect-sync-default-configuration.md).
# Parameters: { base, excludeContainers: [dn...] }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ActiveDirectory
  $base = [string]$p.params.base
  $exclude = @(@($p.params.excludeContainers) | Where-Object { $_ } | ForEach-Object { ',' + ([string]$_).ToLowerInvariant() })
  $filter = '(&(|' + $script:CutoverClassFilters['user'] + $script:CutoverClassFilters['group'] + $script:CutoverClassFilters['contact'] + ')(!(isCriticalSystemObject=TRUE))(!(sAMAccountName=MSOL_*))(!(sAMAccountName=AAD_*)))'
  $rows = [ordered]@{}
  $total = 0
  foreach ($o in @(Get-ADObject -SearchBase $base -SearchScope Subtree -LDAPFilter $filter -Properties objectClass -ResultPageSize 1000 -ResultSetSize $null)) {
    $dn = [string]$o.DistinguishedName
    $key = ',' + $dn.ToLowerInvariant()
    $skip = $false
    foreach ($x in $exclude) { if ($key.EndsWith($x)) { $skip = $true; break } }
    if ($skip) { continue }
    # The parent: the DN after the first unescaped comma.
    $m = [regex]::Match($dn, '^(?:[^,\\]|\\.)*,(.*)$')
    $parent = if ($m.Success) { $m.Groups[1].Value } else { $dn }
    if (-not $rows.Contains($parent)) { $rows[$parent] = [ordered]@{ dn = $parent; users = 0; inetOrgPersons = 0; groups = 0; contacts = 0 } }
    $class = @($o.objectClass)[-1]
    switch ($class) {
      'group' { $rows[$parent].groups++ }
      'contact' { $rows[$parent].contacts++ }
      'inetOrgPerson' { $rows[$parent].inetOrgPersons++ }
      default { $rows[$parent].users++ }
    }
    $total++
  }
  Write-CutoverResult ([ordered]@{ base = $base; containers = @($rows.Values); total = [int]$total })
} catch { Write-CutoverError $_ }
