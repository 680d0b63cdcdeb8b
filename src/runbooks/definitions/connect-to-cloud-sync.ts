import type { RunbookDefinition } from '../types.js';
import { everyObjectOf, objectsOfOu, parseObjects, stepRef } from './phrases.js';
import { pendingExportFigures, PENDING_EXPORT_READS } from './go-live.js';

/**
 * Entra Connect Sync → Entra Cloud Sync, OU by OU (seeds 000, 001 and 002).
 * Where the seeds differ, the newest Microsoft Learn text (seed 001) wins and the step says why.
 */
const COEXISTENCE_WARNING =
  "During the pilot or coexistence phase, don't remove OUs, domains, groups, users, contacts, or other referenced objects from Microsoft Entra Connect Sync scope. " +
  'Removing objects from scope before final cutover is unsafe: it can drop references in the Microsoft Entra connector space and export reference deletes (such as group membership removals) to Microsoft Entra ID. (seed 001)';

export const SOAK_MIN_DAYS = 7;

/** Every object type Cloud Sync takes from an OU in its scope: each gets its own no-flow rule pair. */
export const NOFLOW_OBJECT_TYPES = ['user', 'inetOrgPerson', 'group', 'contact'] as const;

/** Batch OUs that stay on their rules when a rollback takes others back. */
const staying = (c: { batchOus: string[]; rollbackOus: string[] }) => c.batchOus.filter((o) => !c.rollbackOus.includes(o));

/** A partial (coexistence) migration never disables or decommissions Connect Sync. */
const onlyFullMigration = (_f: unknown, c: { partial: boolean }) =>
  c.partial
    ? 'The owners declared this migration partial (coexistence): Connect Sync keeps serving the objects no batch moved, so it is never disabled.'
    : null;

/** The no-flow rules took: every object of the OU carries cloudNoFlow and Connect holds no export for any of them. */
function rulesTook(status: any, ou: string): string | null {
  if (!status) return `Connect Sync's metaverse could not be read for ${ou}.`;
  const missing = (status.missingCloudNoFlow ?? []) as Array<{ dn: string; objectClass: string }>;
  const pending = (status.pendingExports ?? []) as Array<{ dn: string; operation: string }>;
  if (missing.length || status.withCloudNoFlow < status.objects) {
    return `The rules did not take for ${status.objects - status.withCloudNoFlow} of ${status.objects} objects in ${ou} (no cloudNoFlow in the metaverse after the full synchronization), e.g. ${missing
      .slice(0, 5)
      .map((m) => `${m.dn} (${m.objectClass})`)
      .join('; ')}. Connect Sync would keep exporting them: check the rules' scope, then Retry.`;
  }
  if ((status.pendingExportCount ?? pending.length) > 0) {
    return `Connect Sync still holds ${status.pendingExportCount ?? pending.length} pending exports to Entra ID for objects in ${ou}, e.g. ${pending
      .slice(0, 5)
      .map((p) => `${p.operation} ${p.dn}`)
      .join('; ')}.`;
  }
  return null;
}

export const connectToCloudSync: RunbookDefinition = {
  kind: 'connect-to-cloud-sync',
  title: 'Entra Connect Sync → Cloud Sync',
  summary: 'Move users OU by OU from Connect Sync to Cloud Sync; both engines coexist safely until cutover.',
  ous: 'batches',
  steps: [
    {
      key: 'assessment',
      informsEffects: {
        // The domain's counts: "every object of contoso.com it synchronizes (the domain holds …)".
        facts: (e) => {
          const counts = e.counts ?? parseObjects(e.objects);
          return counts ? { domain: counts } : {};
        },
      },
      title: 'Assess the forest for Cloud Sync',
      purpose: 'Before any change: object counts against Cloud Sync limits, parity gaps, prerequisites and a recommendation.',
      warning:
        'If you depend on device writeback, advanced sync rules, cross-forest references, or other Connect Sync-only features, you cannot fully migrate yet; a partial migration (coexistence) is still possible. (seed 002)',
      source: 'seed 002, "Pre-Migration Assessment" (150,000 objects per domain, groups up to 50,000 members, parity gaps, prerequisites)',
      approval: 'none',
      production: false,
      action: { kind: 'graph', operation: 'assess' },
      evidence:
        "The recommendation; counts per domain vs 150,000; largest groups vs 50,000 members; custom sync rules; what the tenant uses (password hash sync, password writeback, Exchange hybrid, group writeback); groups without ms-DS-ConsistencyGuid; Entra's accidental-delete prevention; Cloud Sync agent health as app-only Graph can infer it.",
    },
    {
      key: 'verify-prerequisites',
      title: 'Verify the prerequisites for migrating',
      purpose: 'Confirm this guidance applies: Connect installed with Express settings, no device sync, Cloud Sync prerequisites met.',
      warning:
        "The following guidance is only for users who have installed Microsoft Entra Connect using the Express settings and aren't synchronizing devices. (seed 000/001)",
      source: 'seed 000/001, "Verify the pre-requisites for migrating"; seed 002, "Pre-Migration Assessment"',
      approval: 'none',
      production: false,
      action: {
        kind: 'manual',
        checklist: [
          'Cloud Sync is the best sync tool for this forest (https://aka.ms/EvaluateSyncOptions).',
          'Connect Sync was installed with Express settings and does not synchronize devices.',
          'Cloud Sync prerequisites are met (agent server, Hybrid Identity Administrator, outbound 443).',
          'Fewer than 150,000 objects per domain and no group over 50,000 members.',
          'The migration tutorial has been reviewed.',
        ],
      },
      evidence: 'Who confirmed the checklist, and when.',
    },
    {
      key: 'backup-connect-config',
      title: 'Back up the Connect Sync configuration',
      purpose: 'Export the Connect Sync server configuration so that every later change can be rolled back.',
      source: 'seed 000/001, "Back up your Microsoft Entra Connect configuration"',
      approval: 'none',
      production: false,
      action: { kind: 'runner', sequence: [{ action: 'export-server-config', params: () => ({ label: 'before-migration' }) }] },
      evidence: 'The export folder, its files and their SHA-256 hashes.',
    },
    {
      key: 'count-ou-users',
      informsEffects: {
        sameBatch: true,
        facts: (e) => {
          const count = e.results?.[0];
          return count && typeof count.users === 'number'
            ? { ouUserCount: count.users, ou: { users: count.users, groups: Number(count.groups ?? 0), contacts: Number(count.contacts ?? 0) } }
            : {};
        },
      },
      perBatch: true,
      title: 'Count the users in the OU',
      purpose: 'Count the users in the batch OU on-premises: the number Cloud Sync must reach.',
      warning: 'Keep this OU in Microsoft Entra Connect Sync scope during migration. (seed 001)',
      source: 'seed 000/001, "Create or identify an OU for the migration" and "Run PowerShell on OU" (Get-ADUser -Filter * -SearchBase)',
      approval: 'none',
      production: false,
      guards: ['previous-batch-clear', 'ou-not-rolled-back', 'ou-in-connect-scope'],
      action: { kind: 'runner', sequence: [{ action: 'ad-count', params: (c) => ({ ou: c.ou }) }] },
      evidence: 'Users (with inetOrgPersons), groups and contacts under the OU (paged LDAP search).',
    },
    {
      key: 'stop-scheduler',
      establishes: { scheduler: { enabled: false } },
      perBatch: true,
      title: 'Stop the Connect Sync scheduler',
      purpose: 'Stop scheduled sync cycles so that no cycle runs while the no-flow rules are half-created.',
      source: 'seed 000/001, "Stop the scheduler" (Set-ADSyncScheduler -SyncCycleEnabled $false)',
      approval: 'change-owners',
      production: true,
      guards: ['no-sync-cycle-running'],
      action: { kind: 'runner', sequence: [{ action: 'set-scheduler', params: () => ({ enabled: false }) }] },
      evidence: 'Get-ADSyncScheduler: SyncCycleEnabled = False.',
      effect: (c, f) =>
        `Connect Sync stops for ${everyObjectOf(c, f)}, not only for ${c.ou}, until ${stepRef(f, 'start-scheduler', 'Start the Connect Sync scheduler')}: no sync cycle runs, so no change made in Active Directory reaches Entra ID meanwhile. Password hash sync and password writeback keep running. A delta sync is needed within 7 days.`,
    },
    {
      key: 'create-noflow-rules',
      establishes: { ruleChange: true, ouNoFlowRules: true },
      perBatch: true,
      title: 'Create the cloudNoFlow / JoinNoFlow rules',
      purpose: 'Stop Connect Sync exporting adds, deletes and non-reference updates for the OU, while keeping it in scope.',
      warning: COEXISTENCE_WARNING,
      source:
        'seed 001, "Create the custom sync rules" (inbound Join rule setting cloudNoFlow = True; outbound JoinNoFlow rule scoped on cloudNoFlow EQUAL True)',
      approval: 'change-owners',
      production: true,
      guards: ['ou-not-rolled-back', 'ou-in-connect-scope'],
      action: {
        kind: 'runner',
        sequence: [
          { action: 'export-server-config', params: (c) => ({ label: `before-rules-batch-${c.batch}` }) },
          // One rule pair per object type for the whole migration, one scope group per OU: 8 precedences whatever the batch count.
          { action: 'create-noflow-rules', params: (c) => ({ migrationId: c.migrationId, ous: c.batchOus, objectTypes: [...NOFLOW_OBJECT_TYPES] }) },
          // Rule changes take effect only after a Full Synchronization (scheduler doc: "A Full Sync is required").
          { action: 'start-sync-cycle', params: () => ({ policyType: 'Initial' }) },
          { action: 'get-noflow-status', params: (c) => ({ ou: c.ou }) },
          { action: 'export-server-config', params: (c) => ({ label: `after-rules-batch-${c.batch}` }) },
        ],
      },
      expect: (results, c) => rulesTook(results[3], c.ou!),
      evidence:
        "Rule identifiers and precedences; the full synchronization's runs; every object of the OU with cloudNoFlow in the metaverse and no pending export to Entra ID; configuration exports before and after.",
      effect: (c, f) =>
        `Connect Sync stops exporting adds, deletes and non-reference updates for ${objectsOfOu(c, f)}; reference updates (member, manager) still flow, and an object whose reference attribute changes is exported whole. The OU stays in Connect Sync scope. A full synchronization of every connector runs now, over ${everyObjectOf(c, f)}; it can take hours on a large forest.`,
    },
    {
      key: 'verify-provisioning-agent',
      perBatch: true,
      title: 'Install or verify the provisioning agent',
      purpose: 'Cloud Sync needs an active provisioning agent for the domain; two or more are advised for availability.',
      source: 'seed 000/001, "Install the provisioning agent"; seed 002, "Step 3"',
      approval: 'none',
      production: false,
      action: {
        kind: 'manual',
        checklist: [
          'The provisioning agent is installed on a domain-joined server other than a domain controller, and shows Active for this domain in the Entra admin center (Entra Connect → Cloud Sync → Agents).',
          'A second agent is installed for availability (Microsoft advises two or more).',
        ],
      },
      warning:
        "cutover reads Graph with application permissions only, and Microsoft's agents API (onPremisesPublishingProfiles/provisioning/agents) accepts delegated permissions only: the agent list is checked by a person here. Once the job runs, cutover infers agent health from the job's status, quarantine reasons and provisioning logs (the verify step and the monitor).",
      evidence: 'Who confirmed the agent, and when.',
    },
    {
      key: 'configure-cloud-sync',
      establishes: { ouOnCloudSync: true },
      perBatch: true,
      title: 'Configure Cloud Sync scoped to the OU',
      purpose: 'Create (or reuse) the Cloud Sync configuration for the domain and add the OU to its scope; the job is not started yet.',
      warning: 'Adding this OU never removes OUs already in scope; removing one is a separate, approved step.',
      source: 'seed 000/001, "Configure cloud sync"; seed 002, "Programmatic Migration via MS Graph API" and "Step 4"',
      approval: 'change-owners',
      production: true,
      guards: ['ou-not-rolled-back'],
      action: { kind: 'graph', operation: 'configure-cloud-sync' },
      evidence: 'Service principal id, job ids, the scoped containers, password hash sync as the tenant uses it.',
      effect: (c, f) => {
        const earlier = c.batchOus.filter((o) => o !== c.ou);
        return `Cloud Sync's configuration for ${c.domain} gets ${c.ou} in its scope${earlier.length ? `, beside ${earlier.join('; ')}` : ''}; nothing is provisioned until ${stepRef(f, 'enable-cloud-sync', 'Enable the Cloud Sync job')}.`;
      },
    },
    {
      key: 'provision-on-demand',
      perBatch: true,
      title: 'Provision one user on demand',
      purpose: 'Provision a sample user of the OU before enabling the job, and read each provisioning step of the result.',
      source: 'seed 002, "Step 4": "Test with on-demand provisioning on a specific user"; Microsoft\'s transition tool runs it per domain',
      approval: 'change-owners',
      production: true,
      action: { kind: 'graph', operation: 'provision-on-demand' },
      evidence:
        'The sample user, the result, and the import / matching / scoping / export steps: it must match the existing Entra user (a Create would be a duplicate).',
      effect: (c) => `One user of ${c.ou} (else one group) is provisioned by Cloud Sync now, matched to its existing Entra object; nothing else changes.`,
    },
    {
      key: 'enable-cloud-sync',
      perBatch: true,
      title: 'Enable the Cloud Sync job',
      purpose:
        'Start the provisioning job (and the password hash job when the tenant uses password hash sync); for a later batch, restart the running job so it picks up the new scope.',
      warning:
        'A scope change on a running job is picked up only after provisioning restarts ("Once you\'ve changed the scope, you should restart provisioning", Microsoft Learn, "Configure Cloud Sync").',
      source: 'seed 002, "Step 4": "Enable the configuration"; Graph POST …/jobs/{id}/start and …/restart',
      approval: 'change-owners',
      production: true,
      action: { kind: 'graph', operation: 'start-cloud-sync-job' },
      evidence: 'The jobs started or restarted, and their status after.',
      effect: (c, f) =>
        (c.batch ?? 1) > 1
          ? `Cloud Sync's provisioning job for ${c.domain} restarts for every OU in its scope (${c.batchOus.join('; ')}) and takes ${objectsOfOu(c, f)}, matched to their existing Entra objects (no duplicates).`
          : `Cloud Sync starts provisioning ${objectsOfOu(c, f)} to Entra ID, matched to their existing Entra objects (no duplicates).`,
    },
    {
      key: 'verify-ou-users',
      perBatch: true,
      title: 'Verify the OU users are synchronizing',
      purpose:
        "Cloud Sync has taken every user, group and contact of the OU (its provisioning logs since the job started, object by object), waiting a bounded time for its first cycle. Then Microsoft's new-user test: create a user in the OU and see Cloud Sync provision it.",
      source:
        'seed 000/001, "Verify pilot users are synchronizing and being provisioned" ("If you create a new user in this OU, verify that it\'s being provisioned"); seed 002, "Step 5" (provisioning logs)',
      approval: 'none',
      production: false,
      action: { kind: 'graph', operation: 'verify-ou-counts' },
      evidence:
        'Objects of the OU taken by Cloud Sync (and those it has not, by name); Entra counts; agent health inferred from the job; the new-user test to do by hand.',
    },
    {
      key: 'start-scheduler',
      establishes: { scheduler: { enabled: true } },
      perBatch: true,
      title: 'Start the Connect Sync scheduler',
      purpose: 'Resume Connect Sync for everything still on it, now that the OU is verified on Cloud Sync.',
      warning:
        "seed 002 re-enables the scheduler right after creating the rules; Microsoft's current text, seed 001, starts it only after the pilot users are verified, which this runbook follows.",
      source: 'seed 000/001, "Start the scheduler" (Set-ADSyncScheduler -SyncCycleEnabled $true)',
      approval: 'change-owners',
      production: true,
      guards: ['scheduler-not-held-elsewhere'],
      action: {
        kind: 'runner',
        sequence: [
          { action: 'set-scheduler', params: () => ({ enabled: true }) },
          // Microsoft's pilot tutorial starts a cycle right after re-enabling the scheduler.
          { action: 'start-sync-cycle', params: () => ({ policyType: 'Delta' }) },
        ],
      },
      evidence: 'Get-ADSyncScheduler: SyncCycleEnabled = True; a delta cycle ran to success.',
      effect: (c, f) =>
        `Connect Sync resumes for ${everyObjectOf(c, f)}, apart from the migrated OUs (the no-flow rules keep it away from ${c.batchOus.join('; ')}): a delta cycle now, then its 30-minute cycles.`,
    },
    {
      key: 'verify-all-users',
      title: 'Verify all users are provisioned',
      purpose: 'Every migrated OU: Cloud Sync has taken every user, group and contact, and the job is healthy.',
      source: 'seed 000/001, "Verify all users are provisioned"',
      approval: 'none',
      production: false,
      action: { kind: 'graph', operation: 'verify-all-ous' },
      evidence: 'Per OU: objects on-premises vs taken by Cloud Sync; job status.',
    },
    {
      key: 'post-migration-validation',
      title: 'Post-migration validation',
      purpose: 'The validation table of seed 002, row by row, each with its evidence.',
      source: 'seed 002, "Post-Migration Validation" (user attributes, group memberships, password hash sync, writeback, provisioning logs, agent health)',
      approval: 'none',
      production: false,
      action: { kind: 'graph', operation: 'post-migration-validation' },
      evidence:
        'User attributes (displayName, mail, UPN, proxyAddresses) vs on-premises; groups; provisioning-log failures; agents; and the human checks (a sample sign-in with password hash sync, writeback).',
    },
    {
      key: 'move-sync-features',
      title: 'Move password hash sync and writeback to Cloud Sync',
      purpose:
        'What the tenant uses on Connect Sync (password hash sync, password writeback, Exchange hybrid writeback) is configured and verified on Cloud Sync before Connect stops; nothing the tenant does not use is turned on.',
      warning:
        "Connect Sync's password hash sync and password writeback run in its ADSync service, not its scheduler: they kept working while the scheduler was stopped, and stop only when Connect Sync is disabled.",
      source:
        'seed 002, "Post-Migration Validation" (password hash sync, writeback) and "Programmatic Migration via MS Graph API" (the AD2AADPasswordHash job, Exchange hybrid writeback)',
      approval: 'change-owners',
      production: true,
      action: { kind: 'graph', operation: 'configure-sync-features' },
      evidence: 'Per feature: used by the tenant or not; configured on Cloud Sync; its job running and its last run.',
      effect: (c) => `Cloud Sync takes over the features ${c.domain} uses on Connect Sync (see the plan); Connect keeps running them until it is disabled.`,
    },
    {
      key: 'cloud-sync-password-writeback',
      title: 'Confirm password writeback on Cloud Sync',
      purpose: 'The tenant uses password writeback on Connect Sync: it must work through Cloud Sync before Connect is disabled.',
      warning:
        'Cloud Sync password writeback is switched on in the Entra admin center or with Set-AADCloudSyncPasswordWritebackConfiguration; Graph has no call that enables or reads it with application permissions, so a person confirms it here.',
      source:
        'Microsoft Learn, "Tutorial: Enable cloud sync self-service password reset writeback to an on-premises environment"; seed 002, "Post-Migration Validation" (writeback)',
      approval: 'change-owners',
      production: true,
      skipIf: (f) =>
        f.assessment?.featuresInUse?.passwordWriteback === true
          ? null
          : 'The tenant does not use password writeback on Connect Sync: nothing to move, nothing turned on.',
      action: {
        kind: 'manual',
        checklist: [
          'Password writeback is enabled on the Cloud Sync configuration for this domain (Entra admin center → Cloud Sync → the configuration → Properties, or Set-AADCloudSyncPasswordWritebackConfiguration -Enable $true).',
          'A test user of a migrated OU resets their password through SSPR and can sign in on-premises with the new one.',
        ],
      },
      evidence: 'Who confirmed it, and when.',
    },
    {
      key: 'disable-connect-sync',
      establishes: { scheduler: { enabled: false, serviceStopped: true }, connectDisabled: true },
      title: 'Disable Connect Sync',
      purpose: 'Stop Connect Sync entirely: the scheduler off and the ADSync service stopped and disabled; the server stays installed for the soak.',
      warning:
        'Keep the Connect Sync server in a disabled (not decommissioned) state for at least a week after full migration: it is the quick rollback path. (seed 002)',
      source: 'seed 000/001, "Stop Microsoft Entra Connect" ("turn off the synchronization service"); seed 002, "Disable Connect Sync"',
      approval: 'change-owners',
      production: true,
      guards: ['no-sync-cycle-running', 'connect-scope-migrated'],
      skipIf: onlyFullMigration,
      // Go-live gate: what Connect still has pending (it will never be exported once Connect stops) is approved with the step.
      preview: { reads: PENDING_EXPORT_READS, figures: (r) => pendingExportFigures(r) },
      action: {
        kind: 'runner',
        sequence: [
          { action: 'export-server-config', params: () => ({ label: 'before-disable' }) },
          { action: 'set-scheduler', params: () => ({ enabled: false }) },
          { action: 'set-adsync-service', params: () => ({ running: false }) },
        ],
      },
      evidence: 'A final configuration export; SyncCycleEnabled = False; the ADSync service stopped and disabled.',
      effect: (c, f) =>
        `Connect Sync stops for good, for ${everyObjectOf(c, f)}: no sync cycle, no password hash sync, no password writeback, no export of any kind. Every object it served must already be on Cloud Sync (checked before this runs). The server stays installed for the soak, ${stepRef(f, 'soak', 'Soak: verify everything is good')}.`,
    },
    {
      key: 'check-accidental-delete-prevention',
      title: "Check Connect's tenant-level accidental-delete prevention",
      purpose: "Connect Sync's tenant-level accidental-delete prevention can block Cloud Sync's deletes after cutover: check it and clear it if it is on.",
      warning:
        "Graph's directory/onPremisesSynchronization does not accept application permissions, so cutover cannot read this setting: a person checks it. Check it before batch 1 too: it can hold Cloud Sync's deletes as soon as Cloud Sync owns objects.",
      source:
        'how-to-troubleshoot.md, "Microsoft Entra object deletion threshold": Get-/Disable-AADCloudSyncToolsDirSyncAccidentalDeletionPrevention (AADCloudSyncTools)',
      skipIf: onlyFullMigration,
      approval: 'none',
      production: false,
      action: {
        kind: 'manual',
        checklist: [
          'Get-AADCloudSyncToolsDirSyncAccidentalDeletionPrevention -tenantId <tenant id> shows whether it is on and its threshold.',
          "If it is on: Disable-AADCloudSyncToolsDirSyncAccidentalDeletionPrevention -tenantId <tenant id>, and rely on Cloud Sync's own accidental-delete threshold.",
        ],
      },
      evidence: 'Who checked it, and when.',
    },
    {
      key: 'soak',
      title: 'Soak: verify everything is good',
      purpose: 'Connect stays disabled, not uninstalled, while the monitor keeps reconciling; confirm everything is good after the soak.',
      warning:
        'At least 7 days (configurable upward only). Leave the server in a disabled state for a period of time, so you can verify the migration was successful. (seeds 000, 002)',
      source: 'seed 000/001, "Verify everything is good"; seed 002, "keep … disabled … for at least a week"',
      skipIf: onlyFullMigration,
      approval: 'none',
      production: false,
      guards: ['soak-elapsed'],
      action: {
        kind: 'manual',
        checklist: [
          'No open critical alerts for this migration during the soak.',
          'Users sign in, and provisioning logs show no persistent errors.',
          'Help desk reports nothing that points at sync.',
        ],
      },
      evidence: 'Who confirmed, when, after how many days of soak.',
    },
    {
      key: 'decommission',
      establishes: { connectDecommissioned: true },
      title: 'Decommission the Connect Sync server',
      purpose: 'Take the Connect Sync server offline for good: uninstall Microsoft Entra Connect Sync.',
      warning: 'This cannot be undone: after it, rollback to Connect Sync means a new installation. Two change owners and the migration name are required.',
      source: 'seed 000/001, "Decommission the Microsoft Entra Connect server"; seed 002, "Decommission"',
      skipIf: onlyFullMigration,
      approval: 'sensitive',
      production: true,
      guards: ['soak-elapsed'],
      action: {
        kind: 'manual',
        checklist: [
          'Export the final Connect configuration and keep it with the change record.',
          'Uninstall Microsoft Entra Connect Sync from the server (Programs and Features).',
          'Remove the runner service from the server (infra/runner/install.ps1 -Uninstall).',
        ],
      },
      evidence: 'Who approved and who confirmed the uninstall.',
      effect: (c, f) =>
        `The Connect Sync server is uninstalled: going back to Connect Sync afterwards means a new installation and a full synchronization of ${everyObjectOf(c, f)}.`,
    },
  ],
  rollbackSteps: [
    {
      key: 'rollback-pause-cloud-sync',
      rollbackNeeds: 'ou-on-cloud-sync',
      perBatch: true,
      title: 'Rollback: disable the Cloud Sync configuration',
      purpose:
        "Pause the configuration's jobs so Cloud Sync changes nothing while Connect Sync takes the objects back. The OU stays in Cloud Sync's scope: taking it out would delete its objects from Entra ID.",
      warning:
        'Cloud Sync deletes the objects of an OU taken out of its scope (security groups hard-deleted), so cutover never does that to roll back; the paused configuration keeps the OU, and no later batch re-enables it.',
      source: 'seed 002, "Rollback": "Disable the Cloud Sync configuration"',
      approval: 'change-owners',
      production: true,
      action: { kind: 'graph', operation: 'pause-cloud-sync-job' },
      evidence: 'The jobs and their status after pause.',
      effect: (c) =>
        `Cloud Sync stops provisioning for ${c.domain}, for every OU of its configuration (${c.batchOus.join('; ')}), until the migration resumes.`,
    },
    {
      key: 'rollback-remove-rules',
      establishes: { ruleChange: true },
      perBatch: true,
      title: 'Rollback: remove the no-flow rules and run a full sync',
      purpose: 'Connect Sync exports the OUs again after a full (Initial) synchronization: objects are picked back up.',
      source: 'seed 002, "Rollback": "Remove the exclusion sync rules from Connect Sync" and "Run a full sync cycle"',
      approval: 'change-owners',
      production: true,
      guards: ['no-sync-cycle-running'],
      action: {
        kind: 'runner',
        sequence: [
          { action: 'export-server-config', params: (c) => ({ label: `before-rollback-batch-${c.batch}` }) },
          // After "Disable Connect Sync" the service is stopped: Connect must run again to take the objects back.
          { action: 'set-adsync-service', params: () => ({ running: true }) },
          // The OUs that stay keep their rules (rewritten in place without the rolled-back ones); none left: removed.
          {
            action: (c) => (staying(c).length ? 'create-noflow-rules' : 'remove-noflow-rules'),
            params: (c) =>
              staying(c).length ? { migrationId: c.migrationId, ous: staying(c), objectTypes: [...NOFLOW_OBJECT_TYPES] } : { migrationId: c.migrationId },
          },
          { action: 'start-sync-cycle', params: () => ({ policyType: 'Initial' }) },
        ],
      },
      evidence: 'The removed rules and the full cycle, run to success.',
      effect: (c) => `Connect Sync exports every object in ${c.rollbackOus.join('; ')} again after a full synchronization of every connector.`,
    },
    {
      key: 'rollback-start-scheduler',
      establishes: { scheduler: { enabled: true } },
      rollbackNeeds: 'scheduler-held',
      perBatch: true,
      title: 'Rollback: start the Connect Sync scheduler',
      purpose: 'A rollback started while the scheduler was stopped (mid-batch, or after Connect was disabled) starts it again: nothing else would.',
      source: 'seed 000/001, "Start the scheduler" (Set-ADSyncScheduler -SyncCycleEnabled $true)',
      approval: 'change-owners',
      production: true,
      guards: ['scheduler-not-held-elsewhere'],
      action: { kind: 'runner', sequence: [{ action: 'set-scheduler', params: () => ({ enabled: true }) }] },
      evidence: 'Get-ADSyncScheduler: SyncCycleEnabled = True.',
      effect: (c, f) => `Connect Sync resumes its 30-minute cycles for ${everyObjectOf(c, f)}.`,
    },
    {
      key: 'rollback-verify',
      perBatch: true,
      title: 'Rollback: verify Connect Sync has every object back',
      purpose:
        'No object of the rolled-back OUs carries cloudNoFlow any more, Connect holds no export it could not make, and every user is still in Entra ID (no delete, no duplicate).',
      source: 'seed 002, "Rollback": "Users will be picked back up by Connect Sync on the next cycle"',
      approval: 'none',
      production: false,
      action: { kind: 'graph', operation: 'verify-connect-owns-ou' },
      evidence: "Per OU: objects, cloudNoFlow left, Connect's pending exports; on-premises vs Entra users.",
    },
  ],
};
