# Every action script in src/agent/scripts/, run as the runner agent runs it (its own pwsh, the agent's JSON on stdin)
# against the sandbox's simulated Connect server and forest through the fake ADSync / ActiveDirectory modules. Each
# Describe is one script; the assertions are what a person running the migration would see: the result, the refusal
# and its reason, and what changed on the (simulated) server.

BeforeAll {
  Import-Module (Join-Path $PSScriptRoot 'CutoverTest.psm1') -Force
  $script:Pilot = 'OU=CloudSyncPilot,DC=contoso,DC=com'
  $script:Entra = 'b891884f-051e-4a83-95af-2544101c9083'
  $script:Gwb = 'OU=GWB,DC=contoso,DC=com'

  # Runs the script as the agent does and checks that its result passes the catalog (as the agent checks it) and is
  # what the TypeScript sandbox executor (the runner's executor where there is no pwsh) answers for the same server.
  function Assert-AsSandboxExecutor([string] $Action, [hashtable] $Params = @{}, [hashtable] $Environment = @{}) {
    $r = Invoke-CutoverAction $Action $Params -Environment $Environment
    $r.Ok | Should -BeTrue -Because ($r.Stderr + $r.Stdout)
    Test-CutoverResult $Action $r.Result | Should -BeNullOrEmpty -Because 'the agent checks every result against the catalog'
    $ts = Invoke-SandboxExecutor $Action $Params
    $ts.ok | Should -BeTrue -Because ([string]$ts.error.message)
    ConvertTo-ComparableJson $r.Result | Should -Be (ConvertTo-ComparableJson $ts.result) -Because 'the script and the sandbox executor read the same server'
    return $r.Result
  }
}

Describe 'the scripts folder' {
  It 'has a Describe in this file for every action script (nothing runs on a Connect server untested)' {
    $scripts = @(Get-ChildItem -LiteralPath (Get-CutoverScriptsDir) -Filter '*.ps1' | Where-Object Name -ne '_common.ps1' | ForEach-Object { $_.BaseName })
    $described = @([System.Management.Automation.Language.Parser]::ParseFile($PSCommandPath, [ref]$null, [ref]$null).FindAll({
          param($a) $a -is [System.Management.Automation.Language.CommandAst] -and $a.GetCommandName() -eq 'Describe'
        }, $true) | ForEach-Object { $_.CommandElements[1].SafeGetValue() })
    $missing = @($scripts | Where-Object { $described -notcontains ($_ + '.ps1') })
    $missing | Should -BeNullOrEmpty
  }
}

Describe 'get-scheduler.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'reads the scheduler, with the next cycle time in UTC whatever the server''s time zone' {
    $state = Get-SandboxState
    foreach ($tz in @('UTC', 'Asia/Tokyo', 'America/Los_Angeles')) {
      $r = Invoke-CutoverAction 'get-scheduler' -Environment @{ TZ = $tz }
      $r.Ok | Should -BeTrue -Because $r.Stderr
      $r.Result.SyncCycleEnabled | Should -BeTrue
      $r.Result.StagingModeEnabled | Should -BeFalse
      $r.Result.NextSyncCyclePolicyType | Should -Be 'Delta'
      $r.Result.CurrentlyEffectiveSyncCycleInterval | Should -Be '00:30:00'
      ([datetimeoffset]::Parse($r.Result.NextSyncCycleStartTimeInUTC)).UtcDateTime | Should -Be ([datetimeoffset]::Parse($state.scheduler.NextSyncCycleStartTimeInUTC)).UtcDateTime
    }
  }
  It 'shows staging mode as the wizard left it (read only: Set-ADSyncScheduler may not change it)' {
    Set-SandboxState 'staging-mode' @{ enabled = $true }
    (Invoke-CutoverAction 'get-scheduler').Result.StagingModeEnabled | Should -BeTrue
  }
  It 'fails with Connect''s own message while the ADSync service is stopped' {
    Set-SandboxState 'adsync-service' @{ running = $false }
    $r = Invoke-CutoverAction 'get-scheduler'
    $r.Ok | Should -BeFalse
    $r.ExitCode | Should -Be 1
    $r.Error.message | Should -BeLike 'Unable to connect to the Synchronization Service*'
  }
}

Describe 'set-scheduler.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'turns the scheduler off and says what it was' {
    $r = Invoke-CutoverAction 'set-scheduler' @{ enabled = $false }
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.previousSyncCycleEnabled | Should -BeTrue
    $r.Result.scheduler.SyncCycleEnabled | Should -BeFalse
    $r.Result.waitedForIdle | Should -BeFalse
    (Get-SandboxState).scheduler.SyncCycleEnabled | Should -BeFalse
  }
  It 'refuses while a sync cycle runs, and changes nothing' {
    Set-SandboxState 'begin-cycle'
    $r = Invoke-CutoverAction 'set-scheduler' @{ enabled = $false }
    $r.Error.code | Should -Be 'refused'
    $r.Error.message | Should -BeLike 'a sync cycle is in progress*'
    (Get-SandboxState).scheduler.SyncCycleEnabled | Should -BeTrue
  }
  It 'refuses an enabled that is not a boolean (its own check, beside the agent''s)' {
    $r = Invoke-CutoverAction 'set-scheduler' -Stdin '{"action":"set-scheduler","params":{"enabled":"false","waitForIdle":null}}'
    $r.Error.code | Should -Be 'invalid-params'
    (Get-SandboxState).scheduler.SyncCycleEnabled | Should -BeTrue
  }
}

Describe 'start-sync-cycle.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'runs an Initial cycle to its end and reports each run of it' {
    $r = Invoke-CutoverAction 'start-sync-cycle' @{ policyType = 'Initial' }
    $r.Ok | Should -BeTrue -Because ($r.Stderr + $r.Stdout)
    $r.Result.result | Should -Be 'Success'
    $runs = @($r.Result.runs | ForEach-Object { $_.RunProfileName + ' on ' + $_.ConnectorName })
    $runs | Should -Contain 'Full Import on contoso.com'
    $runs | Should -Contain 'Full Synchronization on contoso.com'
    $runs | Should -Contain 'Export on contoso.onmicrosoft.com - AAD'
    (Get-SandboxState).lastCycle.PolicyType | Should -Be 'Initial'
  }
  It 'fails naming the export that stopped at the deletion threshold (600 deletes over 500)' {
    Reset-Sandbox -LargeOuUsers 600
    Set-SandboxState 'exclude-container' @{ dn = 'OU=Contractors,DC=contoso,DC=com' }
    $r = Invoke-CutoverAction 'start-sync-cycle' @{ policyType = 'Delta' }
    $r.Ok | Should -BeFalse
    $r.Error.message | Should -BeLike '*Export on contoso.onmicrosoft.com - AAD: stopped-deletion-threshold-exceeded*'
  }
  It 'refuses a policy type Start-ADSyncSyncCycle does not run' {
    $r = Invoke-CutoverAction 'start-sync-cycle' -Stdin '{"action":"start-sync-cycle","params":{"policyType":"Full"}}'
    $r.Error.code | Should -Be 'invalid-params'
  }
  It 'fails while the ADSync service is stopped' {
    Set-SandboxState 'adsync-service' @{ running = $false }
    $r = Invoke-CutoverAction 'start-sync-cycle' @{ policyType = 'Delta' }
    $r.Error.message | Should -BeLike 'Unable to connect to the Synchronization Service*'
  }
}

Describe 'create-noflow-rules.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'creates the cloudNoFlow / JoinNoFlow pair for each object type in 0-99 and asks for a Full Synchronization' {
    $r = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-1'; ous = @($Pilot); objectTypes = @('user', 'inetOrgPerson', 'group', 'contact') }
    $r.Ok | Should -BeTrue -Because ($r.Stderr + $r.Stdout)
    $r.Result.created | Should -Be 8
    $r.Result.fullSyncRequired | Should -BeTrue
    $state = Get-SandboxState
    $state.fullSyncRequired.ad | Should -BeTrue
    $rules = @($state.customRules)
    $rules.Count | Should -Be 8
    foreach ($rule in $rules) { $rule.Precedence | Should -BeLessOrEqual 99 }
    $inbound = @($rules | Where-Object Direction -eq 'Inbound')
    $inbound.Count | Should -Be 4
    foreach ($rule in $inbound) {
      $rule.Connector | Should -Be $state.adConnectorId
      $rule.ScopeFilter[0].ScopeConditionList[0].ComparisonOperator | Should -Be 'ENDSWITH'
      $rule.ScopeFilter[0].ScopeConditionList[0].ComparisonValue | Should -Be $Pilot
      $rule.AttributeFlowMappings[0].Destination | Should -Be 'cloudNoFlow'
      $rule.AttributeFlowMappings[0].FlowType | Should -Be 'Constant'
    }
    foreach ($rule in @($rules | Where-Object Direction -eq 'Outbound')) {
      $rule.LinkType | Should -Be 'JoinNoFlow'
      $rule.Connector | Should -Be $Entra
    }
  }
  It 'is idempotent: a second run finds every rule present and creates none' {
    $p = @{ migrationId = 'mig-1'; ous = @($Pilot); objectTypes = @('user', 'group') }
    (Invoke-CutoverAction 'create-noflow-rules' $p).Result.created | Should -Be 4
    $again = Invoke-CutoverAction 'create-noflow-rules' $p
    $again.Result.created | Should -Be 0
    $again.Result.alreadyPresent | Should -Be 4
    @((Get-SandboxState).customRules).Count | Should -Be 4
  }
  It 'writes the OU as Active Directory stores it, whatever case it was given in' {
    $r = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-1'; ous = @('ou=cloudsyncpilot,dc=contoso,dc=com'); objectTypes = @('user') }
    $r.Result.ous | Should -Be @($Pilot)
    @((Get-SandboxState).customRules | Where-Object Direction -eq 'Inbound')[0].ScopeFilter[0].ScopeConditionList[0].ComparisonValue | Should -BeExactly $Pilot
  }
  It 'refuses an OU that does not exist, and creates nothing' {
    $r = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-1'; ous = @('OU=Nowhere,DC=contoso,DC=com'); objectTypes = @('user') }
    $r.Error.code | Should -Be 'not-found'
    $r.Error.message | Should -BeLike 'OU OU=Nowhere,DC=contoso,DC=com could not be verified in Active Directory*'
    @((Get-SandboxState).customRules).Count | Should -Be 0
  }
  It 'without the ActiveDirectory module (no RSAT) verifies through ADSI, and refuses when ADSI cannot either' {
    $modules = New-ModulePathWithout @('ActiveDirectory')
    $r = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-1'; ous = @($Pilot); objectTypes = @('user') } -Environment @{ PSModulePath = $modules }
    $r.Error.code | Should -Be 'not-found'
    $r.Error.message | Should -BeLike '*could not be verified through ADSI*'
    @((Get-SandboxState).customRules).Count | Should -Be 0
  }
}

Describe 'remove-noflow-rules.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'removes exactly this migration''s rules, keeps another''s, and asks for a Full Synchronization' {
    $null = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-1'; ous = @($Pilot); objectTypes = @('user') }
    $null = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-2'; ous = @('OU=Finance,DC=contoso,DC=com'); objectTypes = @('user') }
    $r = Invoke-CutoverAction 'remove-noflow-rules' @{ migrationId = 'mig-1' }
    $r.Ok | Should -BeTrue -Because $r.Stderr
    @($r.Result.removed).Count | Should -Be 2
    $left = @((Get-SandboxState).customRules)
    $left.Count | Should -Be 2
    foreach ($rule in $left) { $rule.Name | Should -BeLike '*mig-2*' }
    (Get-SandboxState).fullSyncRequired.ad | Should -BeTrue
    $again = Invoke-CutoverAction 'remove-noflow-rules' @{ migrationId = 'mig-1' }
    @($again.Result.removed).Count | Should -Be 0
    @($again.Result.notPresent).Count | Should -BeGreaterThan 0
  }
}

Describe 'get-noflow-status.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'shows the rules take effect only after a Full Synchronization, then every object of the OU carries cloudNoFlow' {
    $null = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-1'; ous = @($Pilot); objectTypes = @('user', 'inetOrgPerson', 'group', 'contact') }
    $before = Invoke-CutoverAction 'get-noflow-status' @{ ou = $Pilot }
    $before.Ok | Should -BeTrue -Because ($before.Stderr + $before.Stdout)
    $before.Result.objects | Should -BeGreaterThan 0
    $before.Result.withCloudNoFlow | Should -Be 0
    $null = Invoke-CutoverAction 'start-sync-cycle' @{ policyType = 'Delta' }
    $after = Invoke-CutoverAction 'get-noflow-status' @{ ou = $Pilot }
    $after.Result.withCloudNoFlow | Should -Be $after.Result.objects
    @($after.Result.missingCloudNoFlow).Count | Should -Be 0
    $after.Result.pendingExportCount | Should -Be 0
    $after.Result.byType.inetOrgPerson.objects | Should -Be 2
  }
  It 'lists what Connect still holds to export for the OU (csexport /f:x), e.g. a new user while exports are held back' {
    Set-SandboxState 'staging-mode' @{ enabled = $true }
    $dn = Set-SandboxState 'add-user' @{ cn = 'Nadia Example'; parentDn = $Pilot; sam = 'nexample' }
    Set-SandboxState 'run-cycle' @{ policyType = 'Delta' }
    $r = Invoke-CutoverAction 'get-noflow-status' @{ ou = $Pilot }
    $r.Ok | Should -BeTrue -Because ($r.Stderr + $r.Stdout)
    $r.Result.pendingExportCount | Should -Be 1
    $r.Result.pendingExports[0].dn | Should -Be $dn
    $r.Result.pendingExports[0].operation | Should -Be 'add'
    @($r.Result.missingCloudNoFlow | ForEach-Object dn) | Should -Contain $dn
  }
}

Describe 'get-connector-run-status.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'is idle between cycles and busy, naming the connector, while one runs' {
    (Invoke-CutoverAction 'get-connector-run-status').Result.busy | Should -BeFalse
    Set-SandboxState 'begin-cycle'
    $r = Invoke-CutoverAction 'get-connector-run-status'
    $r.Result.busy | Should -BeTrue
    $r.Result.running[0].RunState | Should -Be 'Busy'
    $r.Result.running[0].ConnectorName | Should -Be 'contoso.com'
    Set-SandboxState 'complete-cycle'
  }
}

Describe 'get-run-profile-results.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'reports run times in UTC on a server east of UTC (run history holds UTC without a zone)' {
    $utc = Invoke-CutoverAction 'get-run-profile-results' @{ limit = 5 } -Environment @{ TZ = 'UTC' }
    $tokyo = Invoke-CutoverAction 'get-run-profile-results' @{ limit = 5 } -Environment @{ TZ = 'Asia/Tokyo' }
    $tokyo.Ok | Should -BeTrue -Because $tokyo.Stderr
    @($tokyo.Result.results).Count | Should -Be 5
    @($tokyo.Result.results | ForEach-Object StartDate) | Should -Be @($utc.Result.results | ForEach-Object StartDate)
    $tokyo.Result.results[0].StartDate | Should -BeLike '*Z'
    $tokyo.Result.results[0].ConnectorName | Should -Not -BeNullOrEmpty
  }
}

Describe 'get-sync-rules.ps1' {
  BeforeAll {
    Reset-Sandbox
    $null = Invoke-CutoverAction 'create-noflow-rules' @{ migrationId = 'mig-1'; ous = @($Pilot); objectTypes = @('user') }
  }
  It 'lists only custom rules when asked, ordered by precedence' {
    $r = Invoke-CutoverAction 'get-sync-rules' @{ customOnly = $true }
    @($r.Result.rules).Count | Should -Be 2
    foreach ($rule in $r.Result.rules) { $rule.IsStandardRule | Should -BeFalse }
    $all = Invoke-CutoverAction 'get-sync-rules' @{ customOnly = $false }
    @($all.Result.rules).Count | Should -BeGreaterThan 2
    $p = @($all.Result.rules | ForEach-Object Precedence)
    $p | Should -Be @($p | Sort-Object)
  }
}

Describe 'get-company-features.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'reads what the tenant uses: password hash sync, password writeback, Exchange hybrid, GWB v2' {
    $r = Invoke-CutoverAction 'get-company-features'
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.PasswordHashSync | Should -BeTrue
    $r.Result.GroupWritebackV2 | Should -BeTrue
    $r.Result.PasswordWriteback | Should -BeFalse
    $r.Result.ExchangeHybrid | Should -BeFalse
    Set-SandboxState 'company-features' @{ features = @{ PasswordWriteback = $true; ExchangeHybrid = $true } }
    $after = Invoke-CutoverAction 'get-company-features'
    $after.Result.PasswordWriteback | Should -BeTrue
    $after.Result.ExchangeHybrid | Should -BeTrue
  }
}

Describe 'get-export-deletion-threshold.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'fails as on a Connect server: -AADUserName is mandatory and a runner cannot sign in interactively' {
    $r = Invoke-CutoverAction 'get-export-deletion-threshold'
    $r.Ok | Should -BeFalse
    $r.Error.message | Should -Be 'Cannot process command because of one or more missing mandatory parameters: AADUserName.'
  }
}

Describe 'get-connector-scope.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'reads the AD connector''s partitions, inclusions, exclusions and group-based filtering' {
    $r = Invoke-CutoverAction 'get-connector-scope'
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.connectorName | Should -Be 'contoso.com'
    $r.Result.partitions[0].selected | Should -BeTrue
    $r.Result.groupFilteringGroupDn | Should -BeNullOrEmpty
    Set-SandboxState 'exclude-container' @{ dn = $Pilot }
    Set-SandboxState 'group-filtering' @{ dn = 'CN=Pilot Users,OU=Groups,DC=contoso,DC=com' }
    $after = Invoke-CutoverAction 'get-connector-scope'
    $after.Result.excludedContainers | Should -Contain $Pilot
    $after.Result.groupFilteringGroupDn | Should -Be 'CN=Pilot Users,OU=Groups,DC=contoso,DC=com'
  }
}

Describe 'get-adsync-service.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'reads the ADSync service''s status and start mode' {
    $r = Invoke-CutoverAction 'get-adsync-service'
    $r.Result.status | Should -Be 'Running'
    $r.Result.startupType | Should -Be 'Automatic'
  }
}

Describe 'set-adsync-service.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'stops and disables the ADSync service; Connect''s cmdlets then fail; starting it again brings them back' {
    $stop = Invoke-CutoverAction 'set-adsync-service' @{ running = $false }
    $stop.Ok | Should -BeTrue -Because ($stop.Stderr + $stop.Stdout)
    $stop.Result.previous.status | Should -Be 'Running'
    $stop.Result.current.status | Should -Be 'Stopped'
    $stop.Result.current.startupType | Should -Be 'Disabled'
    (Get-SandboxState).service.status | Should -Be 'Stopped'
    (Invoke-CutoverAction 'get-scheduler').Error.message | Should -BeLike 'Unable to connect to the Synchronization Service*'
    $start = Invoke-CutoverAction 'set-adsync-service' @{ running = $true }
    $start.Result.current.status | Should -Be 'Running'
    $start.Result.current.startupType | Should -Be 'Automatic'
    (Invoke-CutoverAction 'get-scheduler').Ok | Should -BeTrue
  }
  It 'refuses to stop the service while a sync cycle runs' {
    Set-SandboxState 'begin-cycle'
    $r = Invoke-CutoverAction 'set-adsync-service' @{ running = $false }
    $r.Error.code | Should -Be 'refused'
    (Get-SandboxState).service.status | Should -Be 'Running'
  }
}

Describe 'disable-group-writeback-v2.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'does nothing without confirm: true (the change cannot be undone)' {
    $r = Invoke-CutoverAction 'disable-group-writeback-v2' -Stdin '{"action":"disable-group-writeback-v2","params":{"confirm":false}}'
    $r.Error.code | Should -Be 'invalid-params'
    (Get-SandboxState).features.GroupWritebackV2 | Should -BeTrue
  }
  It 'disables GroupWritebackV2 and reads it back' {
    $r = Invoke-CutoverAction 'disable-group-writeback-v2' @{ confirm = $true }
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.wasEnabled | Should -BeTrue
    (Get-SandboxState).features.GroupWritebackV2 | Should -BeFalse
  }
}

Describe 'create-group-writeback-noflow-rules.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'creates Microsoft''s GWB v2 pair: inbound on the Entra connector, JoinNoFlow out to the AD connector' {
    $r = Invoke-CutoverAction 'create-group-writeback-noflow-rules' @{ migrationId = 'gwb-1'; precedence = 88 }
    $r.Ok | Should -BeTrue -Because ($r.Stderr + $r.Stdout)
    $r.Result.created | Should -Be 2
    $state = Get-SandboxState
    $in = @($state.customRules | Where-Object Direction -eq 'Inbound')[0]
    $in.Connector | Should -Be $Entra
    $in.Precedence | Should -Be 88
    @($in.ScopeFilter[0].ScopeConditionList | ForEach-Object { $_.Attribute + ' ' + $_.ComparisonOperator }) | Should -Be @('cloudMastered EQUAL', 'mail ISNULL')
    $out = @($state.customRules | Where-Object Direction -eq 'Outbound')[0]
    $out.Connector | Should -Be $state.adConnectorId
    $out.LinkType | Should -Be 'JoinNoFlow'
    (Invoke-CutoverAction 'create-group-writeback-noflow-rules' @{ migrationId = 'gwb-1' }).Result.alreadyPresent | Should -Be 2
  }
}

Describe 'export-server-config.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'exports the configuration under %ProgramData%\cutover\exports with the SHA-256 of every file written' {
    $r = Invoke-CutoverAction 'export-server-config' @{ label = 'before-rules' }
    $r.Ok | Should -BeTrue -Because ($r.Stderr + $r.Stdout)
    $r.Result.folder | Should -BeLike 'Exported-ServerConfiguration-before-rules-*Z'
    $folder = Join-Path (Join-Path $env:ProgramData 'cutover/exports') $r.Result.folder
    @($r.Result.files | ForEach-Object path) | Should -Contain 'GlobalSettings/MV.xml'
    foreach ($f in $r.Result.files) {
      (Get-FileHash -LiteralPath (Join-Path $folder $f.path) -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be $f.sha256
    }
    @((Get-SandboxState).configExports).Count | Should -Be 1
  }
  It 'refuses a label that is not a plain name' {
    $r = Invoke-CutoverAction 'export-server-config' -Stdin '{"action":"export-server-config","params":{"label":"..\\x"}}'
    $r.Error.code | Should -Be 'invalid-params'
  }
}

Describe 'ad-count.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'counts users (inetOrgPersons among them), groups and contacts under the OU' {
    $r = Invoke-CutoverAction 'ad-count' @{ ou = $Pilot }
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.users | Should -Be 40
    $r.Result.groups | Should -Be 2
    $r.Result.contacts | Should -Be 2
  }
  It 'round-trips a DN that is not ASCII (UTF-8 on stdin and stdout)' {
    Set-SandboxState 'add-ou' @{ dn = 'OU=Société Générale,DC=contoso,DC=com' }
    $r = Invoke-CutoverAction 'ad-count' @{ ou = 'OU=Société Générale,DC=contoso,DC=com' }
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.ou | Should -BeExactly 'OU=Société Générale,DC=contoso,DC=com'
    $r.Result.users | Should -Be 0
  }
  It 'fails, naming the reason, for an OU that does not exist' {
    $r = Invoke-CutoverAction 'ad-count' @{ ou = 'OU=Nowhere,DC=contoso,DC=com' }
    $r.Ok | Should -BeFalse
    $r.Error.message | Should -Be 'Directory object not found'
  }
}

Describe 'ad-count-by-ou.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'counts per container and leaves the excluded containers out' {
    $all = Invoke-CutoverAction 'ad-count-by-ou' @{ base = 'DC=contoso,DC=com'; excludeContainers = @() }
    $all.Ok | Should -BeTrue -Because $all.Stderr
    $row = @($all.Result.containers | Where-Object dn -eq $Pilot)[0]
    $row.users + $row.inetOrgPersons | Should -Be 40
    $row.inetOrgPersons | Should -Be 2
    $less = Invoke-CutoverAction 'ad-count-by-ou' @{ base = 'DC=contoso,DC=com'; excludeContainers = @($Pilot) }
    @($less.Result.containers | ForEach-Object dn) | Should -Not -Contain $Pilot
    $less.Result.total | Should -Be ($all.Result.total - 44)
  }
}

Describe 'ad-domain-summary.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'summarises the domain and its largest groups' {
    $r = Invoke-CutoverAction 'ad-domain-summary'
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.domain | Should -Be 'contoso.com'
    $r.Result.total | Should -Be ($r.Result.users + $r.Result.groups + $r.Result.contacts)
    @($r.Result.largestGroups).Count | Should -Be 5
    $r.Result.largestGroups[0].members | Should -BeGreaterOrEqual $r.Result.largestGroups[4].members
  }
}

Describe 'ad-export-identities.ps1' {
  BeforeAll { Reset-Sandbox }
  It 'exports objectGUID and ms-DS-ConsistencyGuid (a byte[] in AD) as the same GUID strings the directory holds' {
    $r = Invoke-CutoverAction 'ad-export-identities' @{ ou = $Pilot; classes = @('user', 'contact') }
    $r.Ok | Should -BeTrue -Because $r.Stderr
    $r.Result.count | Should -Be 42
    $john = @($r.Result.objects | Where-Object userPrincipalName -eq 'jsmith@contoso.com')[0]
    $john.objectGUID | Should -Match '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
    $john.consistencyGuid | Should -Be $john.objectGUID
    $john.dn | Should -Be 'CN=Smith\, John,OU=CloudSyncPilot,DC=contoso,DC=com'
  }
  It 'refuses a class it has no filter for' {
    $r = Invoke-CutoverAction 'ad-export-identities' -Stdin '{"action":"ad-export-identities","params":{"ou":"OU=CloudSyncPilot,DC=contoso,DC=com","classes":["computer"]}}'
    $r.Error.code | Should -Be 'invalid-params'
  }
}

Describe 'ad-check-schema.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'finds msDS-ExternalDirectoryObjectId in a 2016+ schema' {
    $r = Invoke-CutoverAction 'ad-check-schema'
    $r.Result.hasExternalDirectoryObjectId | Should -BeTrue
    $r.Result.windowsServer2016OrLater | Should -BeTrue
  }
  It 'says so when the schema is older than Windows Server 2016' {
    Set-SandboxState 'schema' @{ schema = @{ objectVersion = 69; hasExternalDirectoryObjectId = $false } }
    $r = Invoke-CutoverAction 'ad-check-schema'
    $r.Result.objectVersion | Should -Be 69
    $r.Result.hasExternalDirectoryObjectId | Should -BeFalse
    $r.Result.windowsServer2016OrLater | Should -BeFalse
  }
}

Describe 'ad-copy-admin-description.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'shows the copies on a dry run and changes nothing; applies them once; reports a different existing value as a conflict' {
    $gwb = 'OU=GWB,DC=contoso,DC=com'
    $dry = Invoke-CutoverAction 'ad-copy-admin-description' @{ ou = $gwb; dryRun = $true }
    $dry.Ok | Should -BeTrue -Because $dry.Stderr
    $dry.Result.applied | Should -BeFalse
    $n = @($dry.Result.changes).Count
    $n | Should -BeGreaterThan 0
    @((Get-SandboxState).groups | Where-Object { $null -ne $_.externalDirectoryObjectId }).Count | Should -Be 0
    $first = $dry.Result.changes[0]
    Set-SandboxState 'set-external-id' @{ dn = $first.dn; value = 'Group_00000000-0000-0000-0000-000000000000' }
    $apply = Invoke-CutoverAction 'ad-copy-admin-description' @{ ou = $gwb; dryRun = $false }
    $apply.Result.applied | Should -BeTrue
    @($apply.Result.changes).Count | Should -Be ($n - 1)
    @($apply.Result.conflicts | ForEach-Object dn) | Should -Be @($first.dn)
    $state = Get-SandboxState
    foreach ($c in $apply.Result.changes) { @($state.groups | Where-Object dn -eq $c.dn)[0].externalDirectoryObjectId | Should -Be $c.to }
    @((Invoke-CutoverAction 'ad-copy-admin-description' @{ ou = $gwb; dryRun = $true }).Result.changes).Count | Should -Be 0
  }
}

Describe 'get-pending-exports.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'finds nothing pending on either connector of a server that has exported everything' {
    foreach ($connector in @('ad', 'entra')) {
      $r = Assert-AsSandboxExecutor 'get-pending-exports' @{ connector = $connector; limit = 100 }
      $r.total | Should -Be 0
      $r.connectorType | Should -Be $connector
    }
  }
  It 'lists every delete of a group Connect wrote back that the AD connector holds in staging (group writeback v2 off), each of them' {
    Set-SandboxState 'staging-mode' @{ enabled = $true }
    Set-SandboxState 'company-features' @{ features = @{ GroupWritebackV2 = $false } }
    Set-SandboxState 'run-cycle' @{ policyType = 'Delta' }
    $r = Assert-AsSandboxExecutor 'get-pending-exports' @{ connector = 'ad'; limit = 1000 }
    # Six written-back security groups (the two mail-enabled ones are not Connect's to delete), one cs-object after
    # another in csexport's file: none of them skipped.
    $r.counts.delete | Should -Be 6
    $r.writtenBackGroupDeletes | Should -Be 6
    @($r.objects).Count | Should -Be 6
    foreach ($o in $r.objects) {
      $o.dn | Should -BeLike ('CN=Group_*,' + $Gwb)
      $o.writtenBackGroup | Should -BeTrue
    }
    $r.truncated | Should -BeFalse
    $few = Assert-AsSandboxExecutor 'get-pending-exports' @{ connector = 'ad'; limit = 2 }
    @($few.objects).Count | Should -Be 2
    $few.total | Should -Be 6
    $few.truncated | Should -BeTrue
  }
  It 'counts what the Entra connector holds (an add, a delete, the groups whose members changed), naming each by its connector-space DN' {
    Set-SandboxState 'staging-mode' @{ enabled = $true }
    $null = Set-SandboxState 'add-user' @{ cn = 'Nadia Example'; parentDn = $Pilot; sam = 'nexample' }
    Set-SandboxState 'delete-object' @{ dn = 'CN=Smith\, John,OU=CloudSyncPilot,DC=contoso,DC=com' }
    Set-SandboxState 'run-cycle' @{ policyType = 'Delta' }
    $r = Invoke-CutoverAction 'get-pending-exports' @{ connector = 'entra'; limit = 1000 }
    $r.Ok | Should -BeTrue -Because ($r.Stderr + $r.Stdout)
    Test-CutoverResult 'get-pending-exports' $r.Result | Should -BeNullOrEmpty
    $r.Result.counts.add | Should -Be 1
    $r.Result.counts.delete | Should -Be 1
    $r.Result.counts.update | Should -BeGreaterThan 0
    # csexport names the Entra connector's objects CN={<source anchor>}; the sandbox executor names them by their AD
    # DN. Everything else is the same.
    foreach ($o in $r.Result.objects) { $o.dn | Should -Match '^CN=\{[0-9A-F]+\}$' }
    $ts = (Invoke-SandboxExecutor 'get-pending-exports' @{ connector = 'entra'; limit = 1000 }).result
    $withoutDn = { param($x) [ordered]@{ connector = $x.connector; counts = $x.counts; total = $x.total; writtenBackGroupDeletes = $x.writtenBackGroupDeletes; truncated = $x.truncated; objects = @($x.objects | ForEach-Object { $_.objectType + ' ' + $_.operation }) } }
    ConvertTo-ComparableJson (& $withoutDn $r.Result) | Should -Be (ConvertTo-ComparableJson (& $withoutDn $ts))
  }
  It 'fails, saying why, while the ADSync service is stopped' {
    Set-SandboxState 'adsync-service' @{ running = $false }
    $r = Invoke-CutoverAction 'get-pending-exports' @{ connector = 'ad'; limit = 10 }
    $r.Ok | Should -BeFalse
    $r.Error.message | Should -BeLike 'Unable to connect to the Synchronization Service*'
    (Invoke-SandboxExecutor 'get-pending-exports' @{ connector = 'ad'; limit = 10 }).error.message | Should -BeLike 'Unable to connect to the Synchronization Service*'
  }
}

Describe 'get-last-full-runs.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'finds each connector''s last Full Import and Full Synchronization behind a day of delta cycles, in UTC on a server east of UTC' {
    # An Initial cycle, then the scheduler's delta cycles every 30 minutes for a day.
    Set-SandboxState 'run-cycles' @{ policyTypes = @(@('Initial') + @('Delta') * 48); everyMinutes = 30 }
    $r = Assert-AsSandboxExecutor 'get-last-full-runs' -Environment @{ TZ = 'Asia/Tokyo' }
    @($r.connectors | ForEach-Object type) | Should -Be @('ad', 'entra')
    foreach ($c in $r.connectors) {
      $c.fullImport.RunProfileName | Should -Be 'Full Import'
      $c.fullImport.Result | Should -Be 'success'
      $c.fullSync.RunProfileName | Should -Be 'Full Synchronization'
      $c.fullImport.StartDate | Should -BeLike '*Z'
      ([datetimeoffset]::Parse($c.fullImport.StartDate)).UtcDateTime | Should -BeLessThan ([datetime]::UtcNow.AddHours(-23))
      # More runs than get-run-profile-results' window: the full runs are older than its last 50.
      $c.runsRead | Should -BeGreaterThan 50
    }
  }
  It 'says there is none once the run history that held the last full runs is purged (7 days of delta cycles)' {
    Set-SandboxState 'run-cycles' @{ policyTypes = @('Initial', 'Delta'); everyMinutes = 8 * 24 * 60 }
    $r = Assert-AsSandboxExecutor 'get-last-full-runs'
    foreach ($c in $r.connectors) {
      $c.fullImport | Should -BeNullOrEmpty
      $c.fullSync | Should -BeNullOrEmpty
      $c.runsRead | Should -Be 3
    }
  }
}

Describe 'find-sync-accounts.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'finds Entra Connect''s MSOL_ account and the computer its description names' {
    $r = Assert-AsSandboxExecutor 'find-sync-accounts'
    @($r.accounts).Count | Should -Be 1
    $r.accounts[0].tool | Should -Be 'entra-connect'
    $r.accounts[0].computer | Should -Be 'CONNECT01'
    $r.accounts[0].samAccountName | Should -BeLike 'MSOL_*'
  }
  It 'tells DirSync''s MSOL_AD_SYNC from Connect''s, with when each was created in UTC on a server west of UTC' {
    $null = Set-SandboxState 'sync-tool' @{ tool = 'dirsync'; computer = 'DIRSYNC01' }
    $r = Assert-AsSandboxExecutor 'find-sync-accounts' -Environment @{ TZ = 'America/Los_Angeles' }
    $dirsync = @($r.accounts | Where-Object samAccountName -eq 'MSOL_AD_SYNC')
    $dirsync.Count | Should -Be 1
    $dirsync[0].tool | Should -Be 'dirsync'
    $dirsync[0].computer | Should -Be 'DIRSYNC01'
    $dirsync[0].whenCreated | Should -BeLike '*Z'
    @($r.accounts | ForEach-Object tool) | Should -Contain 'entra-connect'
  }
}

Describe 'forest-object-count.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'counts the users, groups and contacts of a one-domain forest, leaving out the sync tool''s own account' {
    $r = Assert-AsSandboxExecutor 'forest-object-count'
    @($r.domains).Count | Should -Be 1
    $r.domains[0].domain | Should -Be 'contoso.com'
    $r.total | Should -Be ($r.domains[0].users + $r.domains[0].groups + $r.domains[0].contacts)
  }
  It 'counts every domain of the forest (Get-ADForest), each through its own domain controller' {
    $before = (Invoke-CutoverAction 'forest-object-count').Result
    $null = Set-SandboxState 'forest-domain' @{ domain = 'emea.contoso.com'; users = 25 }
    $r = Assert-AsSandboxExecutor 'forest-object-count'
    @($r.domains | ForEach-Object domain) | Should -Be @('contoso.com', 'emea.contoso.com')
    $emea = $r.domains[1]
    $emea.dn | Should -Be 'DC=emea,DC=contoso,DC=com'
    $emea.users | Should -Be 25
    $r.total | Should -Be ($before.total + 25)
  }
}

Describe 'gwb-scope-report.ps1' {
  BeforeEach { Reset-Sandbox }
  It 'judges each group under the writeback OU by its real groupType: universal security groups in, the rest out with the reason' {
    $null = Set-SandboxState 'add-group' @{ cn = 'Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d61'; parentDn = $Gwb; scope = 'global'; security = $true; adminDescription = 'Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d61' }
    $null = Set-SandboxState 'add-group' @{ cn = 'Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d62'; parentDn = $Gwb; scope = 'domainLocal'; security = $true; adminDescription = 'Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d62' }
    $null = Set-SandboxState 'add-group' @{ cn = 'Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d63'; parentDn = $Gwb; scope = 'universal'; security = $false; adminDescription = 'Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d63' }
    $null = Set-SandboxState 'add-group' @{ cn = 'Print Operators Local'; parentDn = $Gwb; scope = 'universal'; security = $true }
    $r = Assert-AsSandboxExecutor 'gwb-scope-report' @{ ou = $Gwb }
    $r.inScope | Should -Be 6
    $r.outOfScope | Should -Be 6
    $reason = @{}
    foreach ($g in $r.groups) { $reason[$g.dn] = $g.reason }
    $reason['CN=Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d61,' + $Gwb] | Should -Be 'global scope: only universal groups are supported'
    $reason['CN=Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d62,' + $Gwb] | Should -Be 'domainLocal scope: only universal groups are supported'
    $reason['CN=Group_0b7a3c55-3f0e-4d59-9c4e-1f2a3b4c5d63,' + $Gwb] | Should -Be 'a distribution group: not supported by this migration'
    $reason['CN=Print Operators Local,' + $Gwb] | Should -BeLike 'not written back by Connect*'
    @($r.groups | Where-Object { $null -ne $_.mail } | ForEach-Object reason) | Should -Be @('mail-enabled (a Microsoft 365 group or DL): not supported by this migration', 'mail-enabled (a Microsoft 365 group or DL): not supported by this migration')
  }
  It 'fails for an OU that does not exist, as the sandbox executor does' {
    $r = Invoke-CutoverAction 'gwb-scope-report' @{ ou = 'OU=Nowhere,DC=contoso,DC=com' }
    $r.Ok | Should -BeFalse
    $r.Error.message | Should -Be 'Directory object not found'
    (Invoke-SandboxExecutor 'gwb-scope-report' @{ ou = 'OU=Nowhere,DC=contoso,DC=com' }).ok | Should -BeFalse
  }
}
