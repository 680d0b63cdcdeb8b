# The cutover sandbox's simulated ADSync module (Entra Connect Sync cmdlets, backed by the simulated Connect server).
# Not Microsoft's module: see ADSync.psm1 for the source of each cmdlet's parameters.
@{
  RootModule = 'ADSync.psm1'
  ModuleVersion = '1.0.0'
  GUID = '5c1b0d3e-8f2a-4b6c-9d7e-1a2b3c4d5e01'
  Author = 'cutover'
  Description = 'cutover sandbox: simulated ADSync module (Entra Connect Sync cmdlets, backed by the simulated Connect server).'
  PowerShellVersion = '7.5'
  FunctionsToExport = @('Get-ADSyncScheduler', 'Set-ADSyncScheduler', 'Start-ADSyncSyncCycle', 'Get-ADSyncConnectorRunStatus', 'Get-ADSyncRunProfileResult', 'Set-ADSyncSchedulerConnectorOverride', 'Get-ADSyncSchedulerConnectorOverride', 'Get-ADSyncConnector', 'Get-ADSyncRule', 'New-ADSyncRule', 'Add-ADSyncAttributeFlowMapping', 'Add-ADSyncScopeConditionGroup', 'Add-ADSyncRule', 'Remove-ADSyncRule', 'Get-ADSyncAADCompanyFeature', 'Set-ADSyncAADCompanyFeature', 'Get-ADSyncAADPasswordResetConfiguration', 'Get-ADSyncExportDeletionThreshold', 'Get-ADSyncServerConfiguration', 'Get-ADSyncCSObject', 'Get-ADSyncMVObject', 'Invoke-SandboxCsExport')
  CmdletsToExport = @()
  VariablesToExport = @()
  AliasesToExport = @()
}
