# The cutover sandbox's simulated ActiveDirectory module (RSAT cmdlets, backed by the simulated domain).
# Not Microsoft's module: see ActiveDirectory.psm1 for the source of each cmdlet's parameters.
@{
  RootModule = 'ActiveDirectory.psm1'
  ModuleVersion = '1.0.0'
  GUID = '5c1b0d3e-8f2a-4b6c-9d7e-1a2b3c4d5e02'
  Author = 'cutover'
  Description = 'cutover sandbox: simulated ActiveDirectory module (RSAT cmdlets, backed by the simulated domain).'
  PowerShellVersion = '7.5'
  FunctionsToExport = @('Get-ADObject', 'Get-ADUser', 'Get-ADGroup', 'Get-ADOrganizationalUnit', 'Set-ADGroup', 'Get-ADDomain', 'Get-ADForest', 'Get-ADRootDSE')
  CmdletsToExport = @()
  VariablesToExport = @()
  AliasesToExport = @()
}
