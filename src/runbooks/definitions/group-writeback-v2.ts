import type { RunbookDefinition } from '../types.js';
import { stepRef } from './phrases.js';
import { cycleProblem, pendingExportFigures, PENDING_EXPORT_READS } from './go-live.js';

/**
 * Connect Sync group writeback v2 → Cloud Sync (seed 004). Only cloud-created security groups written
 * back with universal scope are in scope; the OU parameter is the Group Writeback target OU.
 */
const SCOPE_WARNING =
  'This scenario is only for customers currently using Connect group writeback v2, and only for cloud-created security groups written back with universal scope. Mail-enabled groups and DLs written back with writeback v1 or v2 are not supported. (seed 004)';

/** Microsoft's current text, where it adds to or corrects the 2023 revision that seed 004 holds. */
const CURRENT_DOC = 'the current revision of migrate-group-writeback.md, 2024 and later';

/** The connectors of the rule pair: Microsoft's current text and script, against seed 004's 2023 revision. */
const RULE_PLACEMENT =
  "Where the rules go differs from the 2023 revision of seed 004, which puts the inbound rule on the AD connector and the outbound JoinNoFlow rule on the Entra connector. cutover follows Microsoft's current text and its PowerShell (" +
  CURRENT_DOC +
  '): inbound on the Entra connector, outbound JoinNoFlow on the AD connector. The groups are cloud-mastered, and cloudMastered exists only in the Entra connector space, so an inbound rule on the AD connector would never match.';

const wizardStaging = (enable: boolean): string[] => [
  'On the Connect server: start the Microsoft Entra Connect wizard → Configure → Configure staging mode → Next.',
  'Sign in with the Entra ID credentials.',
  `${enable ? 'Select' : 'Clear'} "Enable staging mode" → Next → Configure → Exit.`,
  'Then press "Done — verify": the runner reads Get-ADSyncScheduler and checks StagingModeEnabled.',
];

export const groupWritebackV2: RunbookDefinition = {
  kind: 'group-writeback-v2',
  title: 'Group writeback v2 → Cloud Sync',
  summary: 'Move cloud-created security groups written back by Connect Sync (GWB v2) to Cloud Sync group provisioning.',
  ous: 'one',
  steps: [
    {
      key: 'gwb-prerequisites',
      title: 'Check the prerequisites',
      purpose: 'The AD schema has msDS-ExternalDirectoryObjectId (Windows Server 2016, objectVersion ≥ 87); the people and the agent are ready.',
      warning: SCOPE_WARNING,
      source: 'seed 004, "Prerequisites"',
      approval: 'none',
      production: false,
      action: {
        kind: 'runner',
        sequence: [
          { action: 'ad-check-schema', params: () => ({}) },
          { action: 'get-company-features', params: () => ({}) },
        ],
      },
      expect: ([schema, features]) => {
        // The attribute is what the migration writes; Exchange 2016's schema preparation adds it too, so objectVersion is reported, not required.
        if (!schema?.hasExternalDirectoryObjectId)
          return `The AD schema has no msDS-ExternalDirectoryObjectId (objectVersion ${schema?.objectVersion}): extend it to the Windows Server 2016 schema first.`;
        if (features?.GroupWritebackV2 !== true)
          return 'Get-ADSyncAADCompanyFeature reports GroupWritebackV2 = False: this tenant does not use Connect group writeback v2, and this migration is only for tenants that do (seed 004). There is nothing to migrate this way.';
        return null;
      },
      evidence: 'msDS-ExternalDirectoryObjectId present (schema objectVersion); Get-ADSyncAADCompanyFeature: GroupWritebackV2 = True.',
    },
    {
      key: 'gwb-people-and-agent',
      title: 'Confirm the roles, the agent and the ports',
      purpose: 'What the runner cannot check: roles, the agent build, and the domain controller ports.',
      source: 'seed 004, "Prerequisites"',
      approval: 'none',
      production: false,
      action: {
        kind: 'manual',
        checklist: [
          'An Entra account with at least the Hybrid Identity Administrator role.',
          'An on-premises account with at least domain administrator rights (to copy adminDescription to msDS-ExternalDirectoryObjectId).',
          'The provisioning agent is build 1.1.1367.0 or later.',
          'The agent reaches the domain controllers on TCP/389 (LDAP) and TCP/3268 (Global Catalog).',
        ],
      },
      evidence: 'Who confirmed, when.',
    },
    {
      key: 'gwb-scope-report',
      title: 'List the groups in and out of scope',
      purpose:
        "Group by group, from each group's real groupType: which move (written back from a cloud security group, universal, no mail) and which stay out (mail-enabled groups, DLs, other scopes).",
      warning: SCOPE_WARNING,
      source: 'seed 004, introduction and IMPORTANT ("only supported for cloud created Security groups … written back with the AD groups scope of universal")',
      approval: 'none',
      production: false,
      action: { kind: 'runner', sequence: [{ action: 'gwb-scope-report', params: (c) => ({ ou: c.ou }) }] },
      expect: ([r], c) => (r && r.inScope > 0 ? null : `No group under ${c.ou} is a written-back universal security group: nothing this migration can move.`),
      summarize: ([r]) => ({
        inScopeGroups: (r?.groups ?? []).filter((g: any) => g.inScope).map((g: any) => g.dn),
        outOfScopeGroups: (r?.groups ?? []).filter((g: any) => !g.inScope).map((g: any) => `${g.dn}: ${g.reason}`),
      }),
      evidence: 'Each group in scope, and each group out of scope with its reason (mail-enabled, distribution, not universal).',
    },
    {
      key: 'gwb-copy-dry-run',
      informsEffects: {
        facts: (e) => {
          const dry = e.results?.[0];
          return dry && Array.isArray(dry.changes) ? { gwbGroups: dry.changes.length } : {};
        },
      },
      title: 'Step 1: copy adminDescription → msDS-ExternalDirectoryObjectId (dry run)',
      purpose: 'Report which groups would change, without writing anything.',
      source: 'seed 004, "Step 1 - Copy adminDescription to msDS-ExternalDirectoryObjectID"',
      approval: 'none',
      production: false,
      action: { kind: 'runner', sequence: [{ action: 'ad-copy-admin-description', params: (c) => ({ ou: c.ou, dryRun: true }) }] },
      evidence: 'Each group that would change, from → to; conflicts left alone.',
    },
    {
      key: 'gwb-copy-apply',
      title: 'Step 1: copy adminDescription → msDS-ExternalDirectoryObjectId (apply)',
      purpose: 'Write the values the dry run reported (idempotent: a second run changes nothing).',
      source: 'seed 004, "Step 1"',
      approval: 'change-owners',
      production: true,
      action: { kind: 'runner', sequence: [{ action: 'ad-copy-admin-description', params: (c) => ({ ou: c.ou, dryRun: false }) }] },
      evidence: 'The groups changed.',
      effect: (c, f) =>
        `msDS-ExternalDirectoryObjectId is set from adminDescription on ${f.gwbGroups !== undefined ? `the ${f.gwbGroups} written-back group${f.gwbGroups === 1 ? '' : 's'} the dry run listed` : 'the written-back groups'} in ${c.ou}; no other attribute or object changes.`,
    },
    {
      key: 'gwb-staging-on',
      title: 'Step 2: put the Connect Sync server in staging mode',
      purpose: 'Once approved, a person enables staging mode in the Connect wizard (it cannot be set from PowerShell) and says so; the runner verifies it.',
      warning:
        'Setting staging mode from PowerShell is unsupported: use the wizard. In staging mode the server exports nothing and runs no password hash sync or password writeback for the whole tenant until staging is turned off (how-to-connect-sync-staging-server.md).',
      source: 'seed 004, "Step 2 - Place the Microsoft Entra Connect Sync server in staging mode"',
      approval: 'change-owners',
      production: true,
      action: { kind: 'manual', checklist: wizardStaging(true), verify: { kind: 'runner', sequence: [{ action: 'get-scheduler', params: () => ({}) }] } },
      expect: ([s]) => (s?.StagingModeEnabled ? null : 'StagingModeEnabled is still False: enable staging mode in the Connect wizard, then say Done again.'),
      evidence: 'Who approved, who did it, when; Get-ADSyncScheduler: StagingModeEnabled = True.',
      effect: (c, f) =>
        `The Connect server stops exporting to Entra ID and to AD for every user, group and contact of ${c.domain}, and password hash sync and password writeback stop, until ${stepRef(f, 'gwb-staging-off', 'Step 6: take the Connect Sync server out of staging mode')}.`,
    },
    {
      key: 'gwb-stop-scheduler',
      establishes: { scheduler: { enabled: false } },
      title: 'Step 2: disable the sync scheduler',
      purpose: 'No scheduled cycle while the group rules are created.',
      source: 'seed 004, "Step 2" (Set-ADSyncScheduler -SyncCycleEnabled $false)',
      approval: 'change-owners',
      production: true,
      guards: ['no-sync-cycle-running'],
      action: { kind: 'runner', sequence: [{ action: 'set-scheduler', params: () => ({ enabled: false }) }] },
      evidence: 'SyncCycleEnabled = False.',
      effect: (c, f) =>
        `Connect Sync runs no scheduled cycle for any object of ${c.domain} until ${stepRef(f, 'gwb-start-scheduler', 'Step 5: re-enable the sync scheduler')}.`,
    },
    {
      key: 'gwb-create-rules',
      title: 'Steps 3–4: create the group inbound and outbound rules',
      purpose: 'Inbound (cloudMastered EQUAL true, mail ISNULL → cloudNoFlow = True) and outbound JoinNoFlow on cloudNoFlow EQUAL True.',
      warning: `${RULE_PLACEMENT} Also: don't remove written-back groups, the Group Writeback target OU, or related referenced objects from Connect Sync scope until Cloud Sync is configured and validated (${CURRENT_DOC}).`,
      source:
        'seed 004, "Step 3 - Create a custom group inbound rule" and "Step 4 - Create a custom group outbound rule", with the connectors of the current revision of migrate-group-writeback.md and its PowerShell',
      approval: 'change-owners',
      production: true,
      action: {
        kind: 'runner',
        sequence: [
          { action: 'export-server-config', params: () => ({ label: 'before-gwb-rules' }) },
          { action: 'create-group-writeback-noflow-rules', params: (c) => ({ migrationId: c.migrationId }) },
          { action: 'export-server-config', params: () => ({ label: 'after-gwb-rules' }) },
        ],
      },
      evidence: 'Rule identifiers and precedences; configuration exports before and after.',
      effect: (c) =>
        `Connect Sync stops writing back the cloud security groups in ${c.ou} once the next full synchronization applies the rules (the server is in staging mode: nothing is exported yet).`,
    },
    {
      key: 'gwb-initial-sync-1',
      title: 'Step 5: run a full sync cycle',
      purpose: 'Start-ADSyncSyncCycle -PolicyType Initial, so the rules apply to every group.',
      source: 'seed 004, "Step 5" (3)',
      approval: 'change-owners',
      production: true,
      action: { kind: 'runner', sequence: [{ action: 'start-sync-cycle', params: () => ({ policyType: 'Initial' }) }] },
      expect: ([cycle]) => cycleProblem(cycle),
      evidence: 'The cycle result: every run succeeded (a cycle stopped on the deletion threshold or with export errors fails the step).',
      effect: (c) => `A full synchronization of every connector runs now over every object of ${c.domain}; in staging mode nothing is exported.`,
    },
    {
      key: 'gwb-disable-feature',
      title: 'Step 5: disable group writeback v2 for the tenant',
      purpose: 'Set-ADSyncAADCompanyFeature -GroupWritebackV2 $false.',
      warning: `This operation is irreversible. After you disable Group Writeback v2, all Microsoft 365 groups are written back to Active Directory, independently of the Writeback Enabled setting. (${CURRENT_DOC}, Step 5)`,
      source: 'seed 004, "Step 5" (4)',
      approval: 'sensitive',
      production: true,
      action: { kind: 'runner', sequence: [{ action: 'disable-group-writeback-v2', params: () => ({ confirm: true }) }] },
      evidence: 'GroupWritebackV2 before and after.',
      effect: () =>
        'Group writeback v2 is turned off for the whole tenant, for good: every Microsoft 365 group is then written back to AD, whatever its Writeback Enabled setting.',
    },
    {
      key: 'gwb-initial-sync-2',
      title: 'Step 5: run a full sync cycle (yes, again)',
      purpose: 'Start-ADSyncSyncCycle -PolicyType Initial after the feature change.',
      source: 'seed 004, "Step 5" (5)',
      approval: 'change-owners',
      production: true,
      action: { kind: 'runner', sequence: [{ action: 'start-sync-cycle', params: () => ({ policyType: 'Initial' }) }] },
      expect: ([cycle]) => cycleProblem(cycle),
      evidence: 'The cycle result: every run succeeded. (In staging mode nothing is exported yet: what would be is reviewed before leaving staging.)',
      effect: (c) => `A full synchronization of every connector runs again over every object of ${c.domain}; in staging mode nothing is exported.`,
    },
    {
      key: 'gwb-start-scheduler',
      establishes: { scheduler: { enabled: true } },
      title: 'Step 5: re-enable the sync scheduler',
      purpose: 'Set-ADSyncScheduler -SyncCycleEnabled $true.',
      source: 'seed 004, "Step 5" (6)',
      approval: 'change-owners',
      production: true,
      action: { kind: 'runner', sequence: [{ action: 'set-scheduler', params: () => ({ enabled: true }) }] },
      evidence: 'SyncCycleEnabled = True.',
      effect: (c, f) =>
        `Connect Sync's scheduled cycles resume for ${c.domain}; the server stays in staging mode (exports nothing) until ${stepRef(f, 'gwb-staging-off', 'Step 6: take the Connect Sync server out of staging mode')}.`,
    },
    {
      key: 'gwb-staging-off',
      title: 'Step 6: take the Connect Sync server out of staging mode',
      purpose:
        "Go-live: before approval, the AD and Entra connectors' pending exports (adds, updates, deletes, by object) are read and shown; the approval binds to them. Once approved, a person disables staging mode in the wizard and says so; the runner verifies it.",
      warning:
        'Leaving staging mode exports everything pending. Pending deletes of written-back groups mean the rule pair is missing or wrong: they block this step until the owners decide (typed confirmation), and the usual answer is to fix the rules first.',
      source:
        'seed 004, "Step 6 - Remove the Microsoft Entra Connect Sync server from staging mode"; the pending-export review of how-to-connect-sync-staging-server.md',
      approval: 'change-owners',
      production: true,
      preview: { reads: PENDING_EXPORT_READS, figures: (r) => pendingExportFigures(r, { blockWrittenBackDeletes: true }) },
      action: { kind: 'manual', checklist: wizardStaging(false), verify: { kind: 'runner', sequence: [{ action: 'get-scheduler', params: () => ({}) }] } },
      expect: ([s]) =>
        s && !s.StagingModeEnabled ? null : 'StagingModeEnabled is still True: clear "Enable staging mode" in the Connect wizard, then say Done again.',
      evidence: 'The pending exports approved; Get-ADSyncScheduler: StagingModeEnabled = False.',
      effect: (c) =>
        `The Connect server becomes active again for every object of ${c.domain}: it exports the pending changes shown here, and password hash sync and password writeback resume.`,
    },
    {
      key: 'gwb-configure-cloud-sync',
      title: 'Step 7: configure Cloud Sync group provisioning to AD',
      purpose: 'Provision groups to Active Directory with Cloud Sync, keeping the Connect naming of written-back groups.',
      warning:
        'Set the CN mapping to Append("Group_", [objectId]) to keep the names Connect gave the groups; otherwise Cloud Sync renames them to <display name>_<last 12 digits of object id>.',
      source: 'seed 004, "Step 7 - Configure Microsoft Entra Cloud Sync"; the on-premises notes on Group_<objectId> naming',
      approval: 'change-owners',
      production: true,
      action: {
        kind: 'manual',
        checklist: [
          'In the Entra admin center: Cloud sync → New configuration → Microsoft Entra ID to AD sync, the domain and the Group Writeback target OU.',
          'Attribute mapping for groups: cn ← Append("Group_", [objectId]) (keeps the Connect naming).',
          'Provision one group on demand, then enable the configuration.',
          'Then press "Done — verify": cutover checks through Graph that the group provisioning job (AAD2ADGroupProvisioning) exists, runs and is not quarantined.',
        ],
        verify: { kind: 'graph', operation: 'verify-group-provisioning' },
      },
      evidence: 'Who approved, who did it, when; the AAD2ADGroupProvisioning job: running, not quarantined.',
      effect: (c) => `Cloud Sync starts provisioning groups from Entra ID into ${c.ou}: it takes over the written-back groups.`,
    },
    {
      key: 'gwb-verify',
      title: 'Verify the groups',
      purpose:
        'No written-back group was deleted: every group in scope at the start still exists in AD. Cloud Sync can take each over: msDS-ExternalDirectoryObjectId equals adminDescription on every one, and its group provisioning job runs (checked in the previous step).',
      source: 'seed 004, Step 1 check ("Equal" = adminDescription -eq msDS-ExternalDirectoryObjectID) and Step 7',
      approval: 'none',
      production: false,
      action: {
        kind: 'runner',
        sequence: [
          { action: 'gwb-scope-report', params: (c) => ({ ou: c.ou }) },
          { action: 'ad-copy-admin-description', params: (c) => ({ ou: c.ou, dryRun: true }) },
        ],
      },
      expect: ([report, copy], _c, facts) => {
        const before: string[] = facts['gwb-scope-report']?.inScopeGroups ?? [];
        const now = new Set((report?.groups ?? []).map((g: any) => String(g.dn).toLowerCase()));
        const gone = before.filter((dn) => !now.has(dn.toLowerCase()));
        if (gone.length)
          return `${gone.length} written-back group(s) in scope at the start no longer exist in AD: ${gone.slice(0, 10).join('; ')}${gone.length > 10 ? '; …' : ''}. Restore them (AD Recycle Bin) before going on.`;
        if (copy && copy.changes.length) return `${copy.changes.length} group(s) still lack msDS-ExternalDirectoryObjectId: run the copy step again.`;
        return null;
      },
      summarize: ([report], _c) => ({ groupsStillInAd: (report?.groups ?? []).filter((g: any) => g.inScope).length }),
      evidence: 'Every group in scope at the start still exists; nothing left to copy; conflicts (if any) listed.',
    },
  ],
};
