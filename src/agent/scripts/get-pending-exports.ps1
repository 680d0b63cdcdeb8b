#Requires -Version 5.1
# get-pending-exports: what a connector will export when exports run. Parameters: { connector: 'ad'|'entra', limit }.
# Microsoft's staging-mode check (how-to-connect-sync-staging-server.md, "Verify"): csexport "<connector>" <file> /f:x
# writes the connector's pending exports as XML: cs-object elements (cs-dn, object-type) with unapplied-export/delta
# (@operation add, update, replace or delete), read by Get-CutoverPendingExports (_common.ps1, shared with
# get-noflow-status). The Entra connector names its objects by their connector-space DN (CN={...}); the AD connector's
# are AD DNs. On the AD connector a group whose hologram carries adminDescription Group_... is one Connect wrote back
# from Entra (GWB): deleting it is what a wrong writeback rule does at go-live.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $kind = [string]$p.params.connector
  $limit = [int]$p.params.limit
  if ($kind -eq 'ad') { $connector = Get-CutoverAdConnector } else { $connector = Get-ADSyncConnector -Identifier $script:CutoverEntraConnectorId }
  $counts = [ordered]@{ add = 0; update = 0; delete = 0 }
  $objects = @()
  $total = 0
  $writtenBackDeletes = 0
  Get-CutoverPendingExports ([string]$connector.Name) | ForEach-Object {
    $writtenBack = ($kind -eq 'ad' -and $_.objectType -eq 'group' -and $null -ne $_.adminDescription -and ([string]$_.adminDescription).StartsWith('Group_'))
    $counts[$_.operation]++
    $total++
    if ($_.operation -eq 'delete' -and $writtenBack) { $writtenBackDeletes++ }
    if ($objects.Count -lt $limit) { $objects += [ordered]@{ dn = $_.csDn; objectType = $_.objectType; operation = $_.operation; writtenBackGroup = [bool]$writtenBack } }
  }
  Write-CutoverResult ([ordered]@{ connector = [string]$connector.Name; connectorType = $kind; counts = $counts; total = [int]$total; writtenBackGroupDeletes = [int]$writtenBackDeletes; objects = @($objects); truncated = ($total -gt $objects.Count) })
} catch { Write-CutoverError $_ }
