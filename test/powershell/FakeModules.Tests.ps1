# The sandbox's fake ADSync, ActiveDirectory and Windows-host modules hold the action scripts to the cmdlets'
# documented signatures: a call with a wrong or missing parameter fails here the way it fails on a Connect server
# (PowerShell's own parameter binding does the refusing), each cmdlet says where its signature comes from, and the
# modules and the simulated server behind them answer the same set of cmdlets.

BeforeAll {
  Import-Module (Join-Path $PSScriptRoot 'CutoverTest.psm1') -Force
  Import-Module ADSync -Force
  Import-Module ActiveDirectory -Force
  Reset-Sandbox
  function Get-BindingError([scriptblock] $Call) {
    try { & $Call | Out-Null; return $null } catch { return $_ }
  }
}

Describe 'ADSync: parameters as documented' {
  It 'Get-ADSyncExportDeletionThreshold without -AADUserName fails for the missing mandatory parameter (non-interactive)' {
    $e = Get-BindingError { Get-ADSyncExportDeletionThreshold }
    $e.Exception.Message | Should -Be 'Cannot process command because of one or more missing mandatory parameters: AADUserName.'
    $e.FullyQualifiedErrorId | Should -BeLike 'MissingMandatoryParameter*'
  }
  It 'Set-ADSyncScheduler has no -Confirm (adding -Confirm:$false fails: "A parameter cannot be found")' {
    $e = Get-BindingError { Set-ADSyncScheduler -SyncCycleEnabled $false -Confirm:$false }
    $e.FullyQualifiedErrorId | Should -BeLike 'NamedParameterNotFound*'
    (Get-SandboxState).scheduler.SyncCycleEnabled | Should -BeTrue
  }
  It 'Set-ADSyncScheduler -SyncCycleEnabled takes a Boolean, not the string ''false''' {
    $e = Get-BindingError { Set-ADSyncScheduler -SyncCycleEnabled 'false' }
    $e.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
    (Get-SandboxState).scheduler.SyncCycleEnabled | Should -BeTrue
  }
  It 'Start-ADSyncSyncCycle -PolicyType accepts Unspecified, Delta and Initial only' {
    $e = Get-BindingError { Start-ADSyncSyncCycle -PolicyType Full }
    $e.Exception.Message | Should -BeLike '*Unspecified*Delta*Initial*'
  }
  It 'Get-ADSyncMVObject -Identifier is named only and a Guid' {
    (Get-BindingError { Get-ADSyncMVObject '00000000-0000-0000-0000-000000000000' }).FullyQualifiedErrorId | Should -BeLike 'PositionalParameterNotFound*'
    (Get-BindingError { Get-ADSyncMVObject -Identifier 'not-a-guid' }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
  }
  It 'Get-ADSyncCSObject needs a connector with its -DistinguishedName (five parameter sets)' {
    (Get-BindingError { Get-ADSyncCSObject -DistinguishedName 'CN=x,DC=contoso,DC=com' }) | Should -Not -BeNullOrEmpty
    (Get-BindingError { Get-ADSyncCSObject -Identifier ([guid]::NewGuid()) -ConnectorName 'contoso.com' }).FullyQualifiedErrorId | Should -BeLike 'AmbiguousParameterSet*'
  }
  It 'Set-ADSyncSchedulerConnectorOverride needs -ConnectorIdentifier or -ConnectorName' {
    (Get-BindingError { Set-ADSyncSchedulerConnectorOverride -FullSyncRequired $true }) | Should -Not -BeNullOrEmpty
  }
  It 'New-ADSyncRule refuses an unknown direction or link type and needs -LinkType' {
    $ok = @{ Name = 'x'; Direction = 'Inbound'; SourceObjectType = 'user'; TargetObjectType = 'person'; Connector = [guid]::NewGuid(); LinkType = 'Join' }
    (New-ADSyncRule @ok).GetType().Name | Should -Be 'SynchronizationRule'
    $bad = $ok.Clone(); $bad.Direction = 'Sideways'
    (Get-BindingError { New-ADSyncRule @bad }).Exception.Message | Should -BeLike '*Inbound*Outbound*'
    $bad = $ok.Clone(); $bad.LinkType = 'NoFlow'
    (Get-BindingError { New-ADSyncRule @bad }).Exception.Message | Should -BeLike '*JoinNoFlow*'
    $bad = $ok.Clone(); $bad.Remove('LinkType')
    (Get-BindingError { New-ADSyncRule @bad }).Exception.Message | Should -BeLike '*missing mandatory parameters: LinkType*'
  }
  It 'ScopeCondition takes attribute, value and one of the documented operators (Microsoft''s New-Object form)' {
    $c = New-Object -TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' -ArgumentList 'dn', 'OU=X,DC=contoso,DC=com', 'ENDSWITH'
    [string]$c.ComparisonOperator | Should -Be 'ENDSWITH'
    { New-Object -TypeName 'Microsoft.IdentityManagement.PowerShell.ObjectModel.ScopeCondition' -ArgumentList 'dn', 'x', 'ENDS_WITH' } | Should -Throw '*ENDSWITH*'
  }
  It 'Add-ADSyncScopeConditionGroup takes ScopeCondition objects, not text; Add-ADSyncAttributeFlowMapping a documented FlowType' {
    $rule = New-ADSyncRule -Name 'x' -Direction Inbound -SourceObjectType user -TargetObjectType person -Connector ([guid]::NewGuid()) -LinkType Join
    (Get-BindingError { Add-ADSyncScopeConditionGroup -SynchronizationRule $rule -ScopeConditions 'dn ENDSWITH OU=X' }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
    (Get-BindingError { Add-ADSyncAttributeFlowMapping -SynchronizationRule $rule -Source @('true') -Destination 'cloudNoFlow' -FlowType 'Static' }).Exception.Message | Should -BeLike '*Direct*Constant*Expression*'
    (Get-BindingError { Add-ADSyncRule -SynchronizationRule 'a rule' }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError*'
  }
  It 'Add-ADSyncRule is refused by the server for a custom precedence outside 0-99, as Connect refuses it' {
    $rule = New-ADSyncRule -Name 'too low' -Direction Inbound -SourceObjectType user -TargetObjectType person -Connector 'b891884f-051e-4a83-95af-2544101c9083' -LinkType Join -Precedence 150
    { Add-ADSyncRule -SynchronizationRule $rule } | Should -Throw '*custom rule precedence must be 0-99*'
  }
  It 'a parameter the simulated server does not model fails loudly instead of doing nothing' {
    { Set-ADSyncScheduler -PurgeRunHistoryInterval ([timespan]::FromDays(3)) } | Should -Throw '*the sandbox does not model -PurgeRunHistoryInterval*'
  }
}

Describe 'ActiveDirectory: parameters as documented' {
  BeforeAll { Reset-Sandbox }
  It 'Get-ADObject refuses a search scope other than Base, OneLevel and Subtree' {
    (Get-BindingError { Get-ADObject -LDAPFilter '(objectClass=user)' -SearchScope Everything }).Exception.Message | Should -BeLike '*Base*OneLevel*Subtree*'
  }
  It 'Get-ADObject takes -Identity or a filter, not both; without either it misses -Filter (the default set)' {
    (Get-BindingError { Get-ADObject -Identity 'DC=contoso,DC=com' -LDAPFilter '(objectClass=*)' }).FullyQualifiedErrorId | Should -BeLike 'AmbiguousParameterSet*'
    (Get-BindingError { Get-ADObject }).Exception.Message | Should -BeLike '*missing mandatory parameters: Filter*'
    (Get-BindingError { Get-ADObject -Identity 'DC=contoso,DC=com' -SearchBase 'DC=contoso,DC=com' }).FullyQualifiedErrorId | Should -BeLike 'AmbiguousParameterSet*'
  }
  It 'Get-ADObject -ResultSetSize $null means every object; a number limits them' {
    @(Get-ADObject -LDAPFilter '(objectCategory=person)' -SearchBase 'OU=CloudSyncPilot,DC=contoso,DC=com' -ResultSetSize $null).Count | Should -Be 42
    @(Get-ADObject -LDAPFilter '(objectCategory=person)' -SearchBase 'OU=CloudSyncPilot,DC=contoso,DC=com' -ResultSetSize 5).Count | Should -Be 5
  }
  It 'answers LDAP filters as AD does: objectCategory shorthand, objectClass inheritance, substrings, negation' {
    $base = 'OU=CloudSyncPilot,DC=contoso,DC=com'
    @(Get-ADObject -SearchBase $base -LDAPFilter '(&(objectCategory=person)(objectClass=user))').Count | Should -Be 40
    @(Get-ADObject -SearchBase $base -LDAPFilter '(objectClass=inetOrgPerson)').Count | Should -Be 2
    @(Get-ADObject -SearchBase $base -LDAPFilter '(&(objectCategory=person)(objectClass=contact))').Count | Should -Be 2
    @(Get-ADUser -SearchBase $base -LDAPFilter '(sAMAccountName=jsmith*)').Count | Should -BeGreaterOrEqual 1
    @(Get-ADObject -SearchBase $base -SearchScope Base -LDAPFilter '(objectClass=*)')[0].ObjectClass | Should -Be 'organizationalUnit'
    @(Get-ADGroup -SearchBase 'OU=GWB,DC=contoso,DC=com' -LDAPFilter '(!(adminDescription=*))').Count | Should -Be 0
  }
  It 'Get-ADObject -Identity of a missing object fails with the AD module''s message' {
    { Get-ADObject -Identity 'CN=Nobody,DC=contoso,DC=com' } | Should -Throw "Cannot find an object with identity: 'CN=Nobody,DC=contoso,DC=com' under: 'DC=contoso,DC=com'."
  }
  It 'returns typed values: objectGUID a Guid, ms-DS-ConsistencyGuid a byte[] of the same GUID' {
    $u = @(Get-ADUser -LDAPFilter '(userPrincipalName=jsmith@contoso.com)' -Properties 'mS-DS-ConsistencyGuid')[0]
    $u.ObjectGUID | Should -BeOfType [guid]
    $u.'mS-DS-ConsistencyGuid' | Should -BeOfType [byte]
    ([guid]::new([byte[]]$u.'mS-DS-ConsistencyGuid')) | Should -Be $u.ObjectGUID
  }
  It 'Set-ADGroup -GroupScope takes DomainLocal, Global or Universal' {
    (Get-BindingError { Set-ADGroup -Identity 'CN=Helpdesk,OU=Groups,DC=contoso,DC=com' -GroupScope Forest }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
  }
  It '-Server other than a domain of the forest or its DC is unreachable, as in the AD module' {
    { Get-ADDomain -Server 'fabrikam.com' } | Should -Throw 'Unable to contact the server*'
    (Get-ADDomain -Server 'contoso.com').DNSRoot | Should -Be 'contoso.com'
  }
  It 'Get-ADForest lists every domain of the forest; -Server reaches each one''s own objects' {
    $null = Set-SandboxState 'forest-domain' @{ domain = 'emea.contoso.com'; users = 3 }
    (Get-ADForest).Domains | Should -Be @('contoso.com', 'emea.contoso.com')
    $emea = Get-ADDomain -Server 'emea.contoso.com'
    $emea.DistinguishedName | Should -Be 'DC=emea,DC=contoso,DC=com'
    $emea.ParentDomain | Should -Be 'contoso.com'
    @(Get-ADUser -Server 'DC1.emea.contoso.com' -SearchBase $emea.DistinguishedName -LDAPFilter '(objectClass=user)').Count | Should -Be 3
    # Without -Server the runner's own domain answers, and a base in another domain is not in it.
    { Get-ADObject -SearchBase 'DC=emea,DC=contoso,DC=com' -LDAPFilter '(objectClass=*)' } | Should -Throw 'Directory object not found'
    (Get-ADDomain).DNSRoot | Should -Be 'contoso.com'
  }
}

Describe 'Windows host: the ADSync service as Windows PowerShell 5.1 sees it' {
  BeforeAll { Reset-Sandbox }
  It 'Set-Service -StartupType takes 5.1''s values (AutomaticDelayedStart is PowerShell 7 only)' {
    (Get-BindingError { Set-Service -Name ADSync -StartupType AutomaticDelayedStart }).FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
  }
  It 'a disabled service cannot be started' {
    Set-Service -Name ADSync -StartupType Disabled
    { Start-Service -Name ADSync } | Should -Not -Throw
    Stop-Service -Name ADSync
    Set-Service -Name ADSync -StartupType Disabled
    { Start-Service -Name ADSync } | Should -Throw '*cannot be started*'
    (Get-CimInstance -ClassName Win32_Service -Filter 'Name=''ADSync''').StartMode | Should -Be 'Disabled'
    Set-Service -Name ADSync -StartupType Automatic
    Start-Service -Name ADSync
    (Get-Service -Name ADSync).Status | Should -Be 'Running'
  }
  It 'an unknown service is not found' {
    { Get-Service -Name 'NoSuchService' } | Should -Throw "Cannot find any service with service name 'NoSuchService'."
  }
}

Describe 'the fake modules as a whole' {
  It 'export exactly the cmdlets the simulated server answers (csexport.exe through its alias)' {
    $exported = @(foreach ($m in 'ADSync', 'ActiveDirectory', 'SandboxWindowsHost') { (Get-Module -ListAvailable -Name $m | Select-Object -First 1).ExportedFunctions.Keys })
    $local = @('New-ADSyncRule', 'Add-ADSyncAttributeFlowMapping', 'Add-ADSyncScopeConditionGroup', 'Initialize-SandboxWindowsHost')
    $served = @((Invoke-SandboxTestApi 'GET' '/test/cmdlets' $null).cmdlets | ForEach-Object { if ($_ -eq 'csexport') { 'Invoke-SandboxCsExport' } else { $_ } })
    @($exported | Where-Object { $local -notcontains $_ } | Sort-Object) | Should -Be @($served | Sort-Object)
  }
  It 'record the source of every cmdlet''s signature in a comment above it' {
    foreach ($file in @('ADSync/ADSync.psm1', 'ActiveDirectory/ActiveDirectory.psm1', 'SandboxWindowsHost/SandboxWindowsHost.psm1')) {
      $path = Join-Path (Get-SandboxModulesDir) $file
      $lines = Get-Content -LiteralPath $path
      $ast = [System.Management.Automation.Language.Parser]::ParseFile($path, [ref]$null, [ref]$null)
      $header = ($lines | Select-Object -First 20) -join "`n"
      foreach ($f in $ast.FindAll({ param($a) $a -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false)) {
        if ($f.Name -notmatch '^(Get|Set|Start|Stop|New|Add|Remove|Invoke)-(AD|Service|Cim|SandboxCsExport)') { continue }
        $above = @()
        for ($i = $f.Extent.StartLineNumber - 2; $i -ge 0 -and $lines[$i] -match '^\s*#'; $i--) { $above += $lines[$i] }
        $comment = $above -join "`n"
        ($comment -match '\[(REF|SCH|GWB|DEC|UPG|PHS|STG|SSPR)\]|\(3p\)|Not in \[REF\]' -or ($file -notlike 'ADSync*' -and $comment -match $f.Name.Split('-')[0] -and $header -match 'Source|MicrosoftDocs')) |
          Should -BeTrue -Because ($file + ': ' + $f.Name + ' needs its source in the comment above it')
      }
    }
  }
}
