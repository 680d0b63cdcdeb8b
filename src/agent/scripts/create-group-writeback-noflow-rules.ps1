#Requires -Version 5.1
# create-group-writeback-noflow-rules: Microsoft's GWB v2 migration pair (migrate-group-writeback.md): inbound on the
# Entra connector (cloudMastered EQUAL true, mail ISNULL → cloudNoFlow), outbound JoinNoFlow on the AD connector.
# Parameters: { params: { migrationId, precedence? }, plan: [rule…] }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  Write-CutoverResult (New-CutoverRules $p.plan $p.params.precedence $false)
} catch { Write-CutoverError $_ }
