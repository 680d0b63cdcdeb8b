#Requires -Version 5.1
# get-connector-scope: the AD connector's OU filtering (ContainerInclusionList / ContainerExclusionList of its partitions). Parameters: none.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $null = Read-CutoverInput
  Import-Module ADSync
  $c = Get-CutoverAdConnector
  $included = @()
  $excluded = @()
  foreach ($partition in @($c.Partitions)) {
    if ($null -eq $partition.ConnectorPartitionScope) { continue }
    $included += @($partition.ConnectorPartitionScope.ContainerInclusionList | ForEach-Object { [string]$_ })
    $excluded += @($partition.ConnectorPartitionScope.ContainerExclusionList | ForEach-Object { [string]$_ })
  }
  Write-CutoverResult ([ordered]@{
    connectorName = [string]$c.Name
    connectorId = ([guid]$c.Identifier).ToString()
    includedContainers = @($included)
    excludedContainers = @($excluded)
  })
} catch { Write-CutoverError $_ }
