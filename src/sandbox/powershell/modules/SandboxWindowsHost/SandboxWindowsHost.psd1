# The cutover sandbox's simulated Windows host of the Connect server: the ADSync service, Win32_Service, C:\\.
# Not Microsoft's module: see SandboxWindowsHost.psm1 for the source of each cmdlet's parameters.
@{
  RootModule = 'SandboxWindowsHost.psm1'
  ModuleVersion = '1.0.0'
  GUID = '5c1b0d3e-8f2a-4b6c-9d7e-1a2b3c4d5e03'
  Author = 'cutover'
  Description = 'cutover sandbox: simulated Windows host of the Connect server (the ADSync service, Win32_Service, a C: drive).'
  PowerShellVersion = '7.5'
  FunctionsToExport = @('Get-Service', 'Set-Service', 'Start-Service', 'Stop-Service', 'Get-CimInstance', 'Initialize-SandboxWindowsHost')
  CmdletsToExport = @()
  VariablesToExport = @()
  AliasesToExport = @()
}
