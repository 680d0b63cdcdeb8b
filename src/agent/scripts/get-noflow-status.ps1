#Requires -Version 5.1
# get-noflow-status: proof that the no-flow rules took, for the objects under one OU. Parameters: { ou }.
# For each user, inetOrgPerson, group and contact under the OU (AD module, or ADSI DirectorySearcher without RSAT):
# - Get-ADSyncCSObject -ConnectorIdentifier <AD connector> -DistinguishedName <dn>: absent means Connect does not have
#   it in scope, so it is skipped;
# - ConnectedMVObjectId -> Get-ADSyncMVObject -Identifier: the metaverse object's cloudNoFlow attribute;
# - its lineage entry for the Entra connector (ConnectedCsObjectDN) matched against that connector's pending exports.
# Pending exports are not a Get-ADSyncCSObject property; Microsoft's staging-server procedure reads them with
# csexport "<connector name>" <file> /f:x (how-to-connect-sync-staging-server.md; Csexport: /f:x = pending exports),
# whose XML lists cs-object elements (cs-dn) with unapplied-export/delta/@operation.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $ou = [string]$p.params.ou
  $useAdModule = [bool](Get-Module -ListAvailable -Name ActiveDirectory)
  if ($useAdModule) { Import-Module ActiveDirectory }
  $ou = Resolve-CutoverOu $ou $useAdModule
  $filter = '(|(&(objectCategory=person)(objectClass=user))(&(objectCategory=person)(objectClass=contact))(objectCategory=group))'
  $found = @()
  if ($useAdModule) {
    $found = @(Get-ADObject -SearchBase $ou -SearchScope Subtree -LDAPFilter $filter -ResultPageSize 1000 -ResultSetSize $null | ForEach-Object {
      [ordered]@{ dn = [string]$_.DistinguishedName; objectClass = [string]$_.ObjectClass }
    })
  } else {
    $root = New-Object System.DirectoryServices.DirectoryEntry -ArgumentList ('LDAP://' + $ou.Replace('/', '\/'))
    $searcher = New-Object System.DirectoryServices.DirectorySearcher -ArgumentList $root, $filter
    $searcher.PageSize = 1000
    $searcher.SearchScope = 'Subtree'
    [void]$searcher.PropertiesToLoad.Add('distinguishedName')
    [void]$searcher.PropertiesToLoad.Add('objectClass')
    $results = $searcher.FindAll()
    $found = @(foreach ($res in $results) {
      $classes = @($res.Properties['objectclass'])
      [ordered]@{ dn = [string]$res.Properties['distinguishedname'][0]; objectClass = [string]$classes[$classes.Count - 1] }
    })
    $results.Dispose()
  }

  $adConnector = Get-CutoverAdConnector
  $entra = Get-ADSyncConnector -Identifier $script:CutoverEntraConnectorId
  $pendingByCsDn = @{}
  Get-CutoverPendingExports ([string]$entra.Name) | ForEach-Object { $pendingByCsDn[$_.csDn] = $_.operation }

  $byType = [ordered]@{}
  foreach ($t in @('user', 'inetOrgPerson', 'group', 'contact')) { $byType[$t] = [ordered]@{ objects = 0; withCloudNoFlow = 0 } }
  $objects = 0
  $withCloudNoFlow = 0
  $missing = @()
  $pending = @()
  foreach ($o in $found) {
    $cs = $null
    try { $cs = Get-ADSyncCSObject -ConnectorIdentifier ([guid]$adConnector.Identifier) -DistinguishedName $o.dn } catch { $cs = $null }
    if ($null -eq $cs) { continue }
    $cls = $o.objectClass
    if (-not $byType.Contains($cls)) { continue }
    $objects++
    $byType[$cls].objects++
    $hasFlag = $false
    $mvId = [guid]$cs.ConnectedMVObjectId
    if ($mvId -ne [guid]::Empty) {
      $mv = Get-ADSyncMVObject -Identifier $mvId
      $attr = @($mv.Attributes | Where-Object { [string]$_.Name -eq 'cloudNoFlow' })
      if ($attr.Count -gt 0 -and [string]@($attr[0].Values)[0] -eq 'true') { $hasFlag = $true }
      foreach ($l in @($mv.Lineage)) {
        if (([guid]$l.ConnectorId) -eq ([guid]$entra.Identifier)) {
          $csDn = [string]$l.ConnectedCsObjectDN
          if ($pendingByCsDn.ContainsKey($csDn)) { $pending += ,([ordered]@{ dn = $o.dn; operation = $pendingByCsDn[$csDn] }) }
        }
      }
    }
    if ($hasFlag) { $withCloudNoFlow++; $byType[$cls].withCloudNoFlow++ }
    else { $missing += ,([ordered]@{ dn = $o.dn; objectClass = $cls }) }
  }
  Write-CutoverResult ([ordered]@{
    ou = $ou
    objects = $objects
    withCloudNoFlow = $withCloudNoFlow
    missingCloudNoFlow = @($missing | Select-Object -First 50)
    pendingExports = @($pending | Select-Object -First 50)
    pendingExportCount = $pending.Count
    byType = $byType
  })
} catch { Write-CutoverError $_ }
