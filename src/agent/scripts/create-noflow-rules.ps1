#Requires -Version 5.1
# create-noflow-rules: the cloudNoFlow (inbound, AD connector, dn ENDSWITH OU) / JoinNoFlow (outbound, Entra connector)
# pair per object type. Parameters: { params: { migrationId, batch, ou, objectTypes, precedence? }, plan: [rule…] }.
# The plan (identifiers, names, types, scope) is computed by the agent from the validated parameters.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  # The rule must name the OU exactly as AD stores it, or ENDSWITH silently matches nothing.
  $ou = [string]$p.params.ou
  if (Get-Module -ListAvailable -Name ActiveDirectory) {
    Import-Module ActiveDirectory
    $ou = [string](Get-ADOrganizationalUnit -Identity $p.params.ou).DistinguishedName
  }
  foreach ($r in @($p.plan)) { foreach ($c in @($r.scope)) { if ($c.attribute -eq 'dn') { $c.value = $ou } } }
  $out = New-CutoverRules $p.plan $p.params.precedence
  $out.Insert(0, 'ou', $ou)
  Write-CutoverResult $out
} catch { Write-CutoverError $_ }
