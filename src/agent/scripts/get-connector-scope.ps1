#Requires -Version 5.1
# get-connector-scope: the AD connector's scope as Connect stores it -- each partition's Selected flag and
# ConnectorPartitionScope.ContainerInclusionList / ContainerExclusionList, and group-based filtering in
# GlobalParameters['Connector.GroupFilteringGroupDn'] (empty when off). Parameters: none.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $c = Get-CutoverAdConnector
  $partitions = @()
  $included = @()
  $excluded = @()
  foreach ($partition in @($c.Partitions)) {
    $inc = @()
    $exc = @()
    if ($null -ne $partition.ConnectorPartitionScope) {
      $inc = @($partition.ConnectorPartitionScope.ContainerInclusionList | ForEach-Object { [string]$_ })
      $exc = @($partition.ConnectorPartitionScope.ContainerExclusionList | ForEach-Object { [string]$_ })
    }
    $selected = [bool]$partition.Selected
    $partitions += ,([ordered]@{ name = [string]$partition.Name; selected = $selected; includedContainers = @($inc); excludedContainers = @($exc) })
    if ($selected) { $included += $inc; $excluded += $exc }
  }
  $groupDn = $null
  try {
    $param = $c.GlobalParameters['Connector.GroupFilteringGroupDn']
    if ($null -ne $param -and -not [string]::IsNullOrWhiteSpace([string]$param.Value)) { $groupDn = [string]$param.Value }
  } catch { $groupDn = $null }
  Write-CutoverResult ([ordered]@{
    connectorName = [string]$c.Name
    connectorId = ([guid]$c.Identifier).ToString()
    partitions = @($partitions)
    groupFilteringGroupDn = $groupDn
    includedContainers = @($included)
    excludedContainers = @($excluded)
  })
} catch { Write-CutoverError $_ }
