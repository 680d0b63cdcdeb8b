#Requires -Version 5.1
# get-pending-exports: what a connector will export when exports run. Parameters: { connector: 'ad'|'entra', limit }.
# Microsoft's staging-mode check (how-to-connect-sync-staging-server.md, "Verify"): csexport "<connector>" <file> /f:x
# writes the connector's pending exports as XML: cs-object elements (cs-dn, object-type) with unapplied-export/delta
# (@operation add, update, replace or delete). On the AD connector a group whose hologram carries adminDescription
# Group_... is one Connect wrote back from Entra (GWB): deleting it is what a wrong writeback rule does at go-live.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $kind = [string]$p.params.connector
  $limit = [int]$p.params.limit
  if ($kind -eq 'ad') { $connector = Get-CutoverAdConnector } else { $connector = Get-ADSyncConnector -Identifier $script:CutoverEntraConnectorId }
  $csexport = 'C:\Program Files\Microsoft Azure AD Sync\Bin\csexport.exe'
  if (-not (Test-Path -LiteralPath $csexport)) { Stop-Cutover 'failed' ('csexport.exe not found at ' + $csexport + ': cannot read pending exports') }
  $file = Join-Path ([System.IO.Path]::GetTempPath()) ('cutover-csexport-' + [guid]::NewGuid().ToString() + '.xml')
  $counts = [ordered]@{ add = 0; update = 0; delete = 0 }
  $objects = @()
  $total = 0
  $writtenBackDeletes = 0
  try {
    & 'C:\Program Files\Microsoft Azure AD Sync\Bin\csexport.exe' ([string]$connector.Name) $file '/f:x' | Out-Null
    if ($LASTEXITCODE -ne 0) { Stop-Cutover 'failed' ('csexport.exe exited ' + $LASTEXITCODE) }
    # XmlReader: a staging server can hold hundreds of thousands of pending exports.
    $settings = New-Object System.Xml.XmlReaderSettings
    $settings.IgnoreWhitespace = $true
    $reader = [System.Xml.XmlReader]::Create($file, $settings)
    try {
      while ($reader.ReadToFollowing('cs-object')) {
        $node = [xml]$reader.ReadOuterXml()
        $cs = $node.DocumentElement
        $delta = $cs.SelectSingleNode('unapplied-export/delta')
        if ($null -eq $delta) { continue }
        $op = [string]$delta.GetAttribute('operation')
        if ($op -ne 'add' -and $op -ne 'delete') { $op = 'update' }
        $type = [string]$cs.GetAttribute('object-type')
        $admin = $cs.SelectSingleNode('synchronized-hologram/entry/attr[@name=''adminDescription'']/value')
        $writtenBack = ($kind -eq 'ad' -and $type -eq 'group' -and $null -ne $admin -and ([string]$admin.InnerText).StartsWith('Group_'))
        $counts[$op]++
        $total++
        if ($op -eq 'delete' -and $writtenBack) { $writtenBackDeletes++ }
        if ($objects.Count -lt $limit) { $objects += [ordered]@{ dn = [string]$cs.GetAttribute('cs-dn'); objectType = $type; operation = $op; writtenBackGroup = [bool]$writtenBack } }
      }
    } finally { $reader.Close() }
  } finally { if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force } }
  Write-CutoverResult ([ordered]@{ connector = [string]$connector.Name; connectorType = $kind; counts = $counts; total = [int]$total; writtenBackGroupDeletes = [int]$writtenBackDeletes; objects = @($objects); truncated = ($total -gt $objects.Count) })
} catch { Write-CutoverError $_ }
