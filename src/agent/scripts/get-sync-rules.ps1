#Requires -Version 5.1
# get-sync-rules: Get-ADSyncRule. Parameters: { customOnly }.
. (Join-Path $PSScriptRoot '_common.ps1')
try {
  $p = Read-CutoverInput
  Import-Module ADSync
  $rules = @(Get-ADSyncRule | Where-Object { -not ([bool]$p.params.customOnly -and $_.IsStandardRule) } | Sort-Object Precedence | ForEach-Object { ConvertTo-CutoverRule $_ })
  Write-CutoverResult ([ordered]@{ rules = $rules })
} catch { Write-CutoverError $_ }
