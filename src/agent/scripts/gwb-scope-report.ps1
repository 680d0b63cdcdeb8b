#Requires -Version 5.1
# gwb-scope-report: every group under the Group Writeback target OU with its groupType, judged against seed 004's scope
# (cloud-created security groups written back with universal scope; mail-enabled groups and DLs are not supported).
# groupType flags (MS-ADTS 2.2.12): 0x2 global, 0x4 domain local, 0x8 universal, 0x80000000 security. Parameters: { ou }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ActiveDirectory
  $ou = [string]$p.params.ou
  $in = 0
  $groups = @(Get-ADGroup -SearchBase $ou -SearchScope Subtree -LDAPFilter '(objectCategory=group)' -Properties displayName, adminDescription, mail, groupType -ResultPageSize 1000 -ResultSetSize $null | ForEach-Object {
    $type = [int64]$_.groupType
    if ($type -lt 0) { $type = $type + 4294967296 }
    $scope = 'global'
    if ($type -band 0x8) { $scope = 'universal' } elseif ($type -band 0x4) { $scope = 'domainLocal' }
    $security = (($type -band 0x80000000) -ne 0)
    $admin = $null
    if ($_.adminDescription) { $admin = [string]$_.adminDescription }
    $mail = $null
    if ($_.mail) { $mail = [string]$_.mail }
    $writtenBack = ($null -ne $admin -and $admin.StartsWith('Group_'))
    $inScope = $false
    if (-not $writtenBack) { $reason = 'not written back by Connect (no adminDescription Group_...)' }
    elseif ($mail) { $reason = 'mail-enabled (a Microsoft 365 group or DL): not supported by this migration' }
    elseif (-not $security) { $reason = 'a distribution group: not supported by this migration' }
    elseif ($scope -ne 'universal') { $reason = $scope + ' scope: only universal groups are supported' }
    else { $reason = 'cloud security group written back as universal'; $inScope = $true; $in++ }
    $dname = $null
    if ($_.displayName) { $dname = [string]$_.displayName }
    [ordered]@{ dn = [string]$_.DistinguishedName; displayName = $dname; adminDescription = $admin; mail = $mail; groupScope = $scope; security = $security; writtenBack = $writtenBack; inScope = $inScope; reason = $reason }
  })
  Write-CutoverResult ([ordered]@{ ou = $ou; groups = $groups; inScope = [int]$in; outOfScope = [int]($groups.Count - $in) })
} catch { Write-CutoverError $_ }
