#Requires -Version 5.1
# create-noflow-rules: the migration's cloudNoFlow (inbound, AD connector, one 'dn ENDSWITH <OU>' group per OU) and
# JoinNoFlow (outbound, Entra connector) rule per object type, created or updated in place, then the AD connector is
# marked FullSyncRequired (rules take effect only at a Full Synchronization: how-to-connect-sync-feature-scheduler.md).
# Parameters: { params: { migrationId, ous, objectTypes }, plan: [rule...] } (the plan is computed by the agent).
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  # Each OU is verified and named exactly as AD stores it, or ENDSWITH silently matches nothing. RSAT's module when
  # present, ADSI otherwise; an OU that cannot be verified stops the action.
  $useAdModule = [bool](Get-Module -ListAvailable -Name ActiveDirectory)
  if ($useAdModule) { Import-Module ActiveDirectory }
  $stored = @{}
  $ous = @(foreach ($dn in @($p.params.ous)) {
    $found = Resolve-CutoverOu ([string]$dn) $useAdModule
    $stored[[string]$dn] = $found
    $found
  })
  foreach ($r in @($p.plan)) {
    foreach ($g in @($r.scope)) { foreach ($c in @($g)) { if ($c.attribute -eq 'dn') { $c.value = $stored[[string]$c.value] } } }
  }
  $out = New-CutoverRules $p.plan $null $true
  Set-CutoverFullSyncRequired (Get-CutoverAdConnector)
  $out.Insert(0, 'ous', @($ous))
  $out['fullSyncRequired'] = $true
  Write-CutoverResult $out
} catch { Write-CutoverError $_ }
