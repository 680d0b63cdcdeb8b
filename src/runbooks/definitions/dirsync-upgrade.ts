import type { Facts, RunbookDefinition } from '../types.js';
import { stepRef } from './phrases.js';
import { pendingExportFigures, PENDING_EXPORT_READS } from './go-live.js';

/**
 * DirSync → Entra Connect (seed 003). The analysis recommends the path: in-place below 50,000 objects, a parallel
 * deployment at 50,000 or more (Microsoft estimates three hours per 50,000 objects). The seed lets the owners choose
 * against the recommendation both ways (`path=` at creation): in-place at 50,000 or more ("Continue upgrading DirSync
 * on this computer"), parallel below it (a hardware refresh, with AzureADConnect.exe /ForceExport).
 */
export const IN_PLACE_LIMIT = 50_000;
const NO_ROLLBACK =
  'After you have enabled your new Microsoft Entra Connect server to start syncing changes to Microsoft Entra ID, you must not roll back to using DirSync or Azure AD Sync: downgrading is not supported and can lead to data loss in Microsoft Entra ID. (seed 003)';

/**
 * Where the runner can run. DirSync ran on Windows Server 2008/2008 R2/2012 with PowerShell 2–4; the runner needs
 * Node.js 20 or later (which refuses Windows Server 2008 R2 and older, and treats 2012 R2 as experimental) and its
 * scripts need Windows PowerShell 5.1. The analysis reads only AD, so it runs from any domain-joined machine.
 */
const RUNNER_PLACEMENT =
  'The runner cannot run on most DirSync servers: they run Windows Server 2008/2008 R2/2012 with PowerShell 2–4, and the runner needs Node.js 20 or later and Windows PowerShell 5.1. Run it on another machine that reaches a domain controller — for a parallel deployment, the new Entra Connect server — with the LDAP executor (cutover-runner --executor ldap --ldap-url ldaps://<dc> --bind-dn <read account>): the analysis reads only Active Directory, over LDAP.';

export type UpgradePath = 'in-place' | 'parallel';

export function upgradeEstimate(objects: number): { hours: number; path: UpgradePath } {
  return { hours: Math.round((objects / IN_PLACE_LIMIT) * 3 * 10) / 10, path: objects < IN_PLACE_LIMIT ? 'in-place' : 'parallel' };
}

/** The path the migration follows: the owners' choice at creation, else the analysis's recommendation. */
const chosen = (f: Facts): UpgradePath | undefined => f['dirsync-analysis']?.chosenPath;
const objects = (f: Facts): number | undefined => f['dirsync-analysis']?.objects;
const onlyInPlace = (f: Facts) => (chosen(f) === 'parallel' ? `the parallel deployment was chosen (${objects(f)} objects in the forest)` : null);
const onlyParallel = (f: Facts) => (chosen(f) === 'in-place' ? `the in-place upgrade was chosen (${objects(f)} objects in the forest)` : null);
const onlyParallelSmall = (f: Facts) =>
  onlyParallel(f) ?? ((objects(f) ?? 0) >= IN_PLACE_LIMIT ? 'the wizard offers Export settings itself at 50,000 objects or more (the previous step)' : null);
const onlyParallelLarge = (f: Facts) =>
  onlyParallel(f) ?? ((objects(f) ?? 0) < IN_PLACE_LIMIT ? 'below 50,000 objects the settings are exported with /ForceExport (the next step)' : null);

const scheduler = { kind: 'runner' as const, sequence: [{ action: 'get-scheduler', params: () => ({}) }] };

export const dirsyncUpgrade: RunbookDefinition = {
  kind: 'dirsync-upgrade',
  title: 'DirSync → Entra Connect',
  summary: 'Upgrade from DirSync (no longer working) to Microsoft Entra Connect, in place or by a parallel deployment.',
  ous: 'none',
  steps: [
    {
      key: 'dirsync-analysis',
      informsEffects: {
        facts: (e) =>
          typeof e.objects === 'number' ? { forest: { objects: e.objects, hours: typeof e.estimateHours === 'number' ? e.estimateHours : undefined } } : {},
      },
      title: 'Analyse: the sync tool, the forest object count and the upgrade path',
      purpose:
        "Confirm the forest is synchronized by DirSync (its MSOL_AD_SYNC service account; this upgrade does not apply to Azure AD Sync or another Entra Connect), then count the users, groups and contacts of every domain of the forest (DirSync's database holds them all): in-place below 50,000 objects, parallel deployment at 50,000 or more.",
      warning: `We estimate that if you have 50,000 or more objects, it takes more than three hours to do the upgrade. (seed 003) ${RUNNER_PLACEMENT}`,
      source:
        'seed 003, introduction ("The steps … don\'t work for upgrading from a different version of Microsoft Entra Connect or from Azure AD Sync") and "Upgrade from DirSync" (the table of upgrade time and number of objects)',
      approval: 'none',
      production: false,
      action: {
        kind: 'runner',
        sequence: [
          { action: 'find-sync-accounts', params: () => ({}) },
          { action: 'forest-object-count', params: () => ({}) },
        ],
      },
      expect: ([found]) => {
        const tools: string[] = (found?.accounts ?? []).map((a: any) => a.tool);
        if (tools.includes('dirsync')) return null;
        if (tools.includes('entra-connect'))
          return 'This forest is synchronized by Microsoft Entra Connect, not DirSync (its MSOL_ service account says so): this upgrade does not apply (seed 003). Use the Connect → Cloud Sync runbook, or upgrade Connect in place.';
        if (tools.includes('azure-ad-sync'))
          return 'This forest is synchronized by Azure AD Sync, not DirSync: the steps of seed 003 "don\'t work for upgrading … from Azure AD Sync". Follow Microsoft\'s Azure AD Sync upgrade instead.';
        return 'No DirSync service account (MSOL_AD_SYNC) was found in the forest: this upgrade applies only to a forest DirSync synchronizes.';
      },
      summarize: ([found, count], c) => {
        const n = Number(count?.total ?? 0);
        const est = upgradeEstimate(n);
        const choice = c.options.path as UpgradePath | undefined;
        const dirsync = (found?.accounts ?? []).find((a: any) => a.tool === 'dirsync');
        return {
          syncTool: `DirSync (${dirsync?.samAccountName ?? 'MSOL_AD_SYNC'}${dirsync?.computer ? ` on ${dirsync.computer}` : ''})`,
          objects: n,
          domains: (count?.domains ?? []).map((d: any) => `${d.domain}: ${d.total} (${d.users} users, ${d.groups} groups, ${d.contacts} contacts)`),
          estimateHours: est.hours,
          recommendedPath: est.path,
          chosenPath: choice ?? est.path,
          ...(choice && choice !== est.path ? { override: `${choice} chosen against the recommendation (${est.path}), as seed 003 allows` } : {}),
        };
      },
      evidence: 'The sync tool found; objects per domain and in total; the estimate (3 hours per 50,000 objects); the recommended and the chosen path.',
    },
    {
      key: 'dirsync-prerequisites',
      title: 'Check what the upgrade needs and what blocks it',
      purpose:
        'The requirements that differ from DirSync, the credentials the wizard asks for, the database choice, and the configurations that block an upgrade.',
      warning:
        'Do not uninstall DirSync yourself before the upgrade: Entra Connect reads and migrates its configuration, and uninstalls it after inspecting the server. (seed 003)',
      source: 'seed 003, introduction, "DirSync configurations supported for upgrade", "High-level steps" (3, 4)',
      approval: 'none',
      production: false,
      action: {
        kind: 'manual',
        checklist: [
          'The server for Entra Connect meets its current hardware and prerequisites (how-to-connect-install-prerequisites.md): a supported Windows Server, which most DirSync servers are not — if not, choose the parallel deployment on a new server.',
          'Newer .NET and PowerShell versions than DirSync needed are installed.',
          "A proxy, if any, is configured machine-wide (Entra Connect uses machine settings, not the installing user's).",
          'The URLs Entra Connect needs are open in the proxy.',
          'The password of the Entra account DirSync uses (Hybrid Identity Administrator) is at hand: the wizard asks for it.',
          'An Enterprise Admins account for AD DS is at hand (used only during the installation).',
          'No unsupported DirSync change (removed attributes, a custom extension DLL): those block the upgrade — install a new server in staging mode instead.',
          'SQL Server Express (10 GB) is enough for this object count, or a full SQL Server instance is chosen (not the one DirSync uses).',
          'The DirSync service-account passwords will be reset during the upgrade (they cannot be migrated).',
        ],
      },
      evidence: 'Who confirmed, when.',
    },
    {
      key: 'dirsync-in-place',
      title: 'In-place upgrade: run the Entra Connect installer on the DirSync server',
      purpose:
        'Once approved, a person runs the wizard, which migrates the DirSync settings and resumes active sync on the same server; cutover then checks through Graph that Entra ID is receiving directory syncs again.',
      warning: NO_ROLLBACK,
      source: 'seed 003, "In-place upgrade"',
      approval: 'change-owners',
      production: true,
      skipIf: onlyInPlace,
      action: {
        kind: 'manual',
        checklist: [
          'Open the Microsoft Entra Connect installer (MSI) on the DirSync server; agree to the license terms; Next starts the analysis.',
          'At 50,000 objects or more the wizard recommends a parallel deployment: to upgrade here anyway, select "Continue upgrading DirSync on this computer".',
          'Enter the password of the account DirSync uses to connect to Entra ID, then an Enterprise Admins account for AD DS.',
          'Select Upgrade: DirSync is uninstalled, Entra Connect is configured and begins syncing.',
          'Sign out of Windows and in again before using Synchronization Service Manager or the Synchronization Rules Editor.',
          'Then press "Done — verify".',
        ],
        verify: { kind: 'graph', operation: 'verify-sync-resumed' },
      },
      evidence: "Who approved, who ran it, when; Entra ID's onPremisesLastSyncDateTime after the upgrade began.",
      effect: (_c, f) =>
        `DirSync is replaced by Entra Connect on the same server: directory sync stops for ${f.forest ? `all ${f.forest.objects.toLocaleString('en-US')} objects of the forest` : 'every object of the forest'} while the installer runs${f.forest?.hours !== undefined ? ` (about ${f.forest.hours} h)` : ''}, and there is no way back to DirSync.`,
    },
    {
      key: 'dirsync-export-settings',
      title: 'Parallel deployment (50,000 objects or more): export the DirSync settings',
      purpose: 'On the DirSync server, the Entra Connect wizard recommends a parallel deployment and offers Export settings.',
      source: 'seed 003, "Export the DirSync configuration" ("Parallel deployment with 50,000 or more objects")',
      approval: 'none',
      production: false,
      skipIf: onlyParallelLarge,
      action: {
        kind: 'manual',
        checklist: [
          'Run the Entra Connect installer on the DirSync server; after the analysis, select Export settings.',
          'Exit the wizard on the DirSync server and copy the settings file to the new server.',
        ],
      },
      evidence: 'Who exported, when.',
    },
    {
      key: 'dirsync-force-export',
      title: 'Parallel deployment (fewer than 50,000 objects): export the settings with /ForceExport',
      purpose:
        'Below 50,000 objects the wizard recommends in-place; a parallel deployment (e.g. a hardware refresh) exports the settings from the command line.',
      source: 'seed 003, "Export the DirSync configuration" ("Parallel deployment with fewer than 50,000 objects")',
      approval: 'none',
      production: false,
      skipIf: onlyParallelSmall,
      action: {
        kind: 'manual',
        checklist: [
          'Run the Entra Connect installer on the DirSync server; at "Welcome to Microsoft Entra Connect", exit the wizard with the X in the top-right corner.',
          'Open a Command Prompt in the installation folder of Entra Connect (default C:\\Program Files\\Microsoft Entra Connect) and run: AzureADConnect.exe /ForceExport',
          'Select Export settings; then exit the wizard and copy the settings file to the new server.',
        ],
      },
      evidence: 'Who exported, when.',
    },
    {
      key: 'dirsync-install-staging',
      title: 'Parallel deployment: install Entra Connect in staging mode on the new server',
      purpose:
        'Once approved: install with AzureADConnect.exe /migrate and import the settings file; the server starts in staging mode and exports nothing. The runner (installed on the new server) verifies staging mode.',
      warning: 'Only one sync tool at a time can actively export changes: the new server must stay in staging mode until DirSync is off. (seed 003)',
      source: 'seed 003, "Install Microsoft Entra Connect on a separate server"',
      approval: 'change-owners',
      production: false,
      skipIf: onlyParallel,
      action: {
        kind: 'manual',
        checklist: [
          'On the new server, run the Entra Connect installer; at "Welcome to Microsoft Entra Connect", exit the wizard with the X in the top-right corner.',
          'Open a Command Prompt in the installation folder of Entra Connect (default C:\\Program Files\\Microsoft Entra Connect) and run: AzureADConnect.exe /migrate',
          'Select the settings file exported from DirSync.',
          'Advanced options as needed: a custom installation location; an existing SQL Server (never the instance DirSync uses); the service account for SQL Server (a domain account if SQL is remote).',
          'In "Ready to configure", leave "Start the synchronization process as soon as the configuration completes" selected: the server is in staging mode. Select Install.',
          'Sign out of Windows and in again before using Synchronization Service Manager or the Synchronization Rules Editor.',
          'Install the cutover runner on the new server (register it under the name this migration uses), then press "Done — verify".',
        ],
        verify: scheduler,
      },
      expect: ([s]) =>
        s?.StagingModeEnabled
          ? null
          : 'The new server is not in staging mode: it would export alongside DirSync. Enable staging mode in its wizard now, then say Done again.',
      evidence: 'Who installed it, when; Get-ADSyncScheduler on the new server: StagingModeEnabled = True.',
    },
    {
      key: 'dirsync-verify-staging',
      title: 'Parallel deployment: verify Entra Connect is ready to take over',
      purpose:
        'Full Import and Full Synchronization completed without errors on both connectors, in staging mode, found however many delta runs followed them; and what the server would export (pending exports, by object) is shown for review.',
      source: 'seed 003, "Verify that Microsoft Entra Connect is ready to begin sync"; how-to-connect-sync-staging-server.md for the pending-export review',
      approval: 'none',
      production: false,
      skipIf: onlyParallel,
      action: {
        kind: 'runner',
        sequence: [{ action: 'get-scheduler', params: () => ({}) }, { action: 'get-last-full-runs', params: () => ({}) }, ...PENDING_EXPORT_READS],
      },
      expect: ([s, full]) => {
        if (!s?.StagingModeEnabled) return 'The new server is not in staging mode: it would export alongside DirSync.';
        const connectors: any[] = full?.connectors ?? [];
        const missing: string[] = [];
        for (const type of ['ad', 'entra'] as const) {
          const c = connectors.find((x) => x.type === type);
          const label = type === 'ad' ? 'the AD connector' : 'the Entra connector';
          if (!c) {
            missing.push(`${label} (not found)`);
            continue;
          }
          for (const [run, name] of [
            [c.fullImport, 'Full Import'],
            [c.fullSync, 'Full Synchronization'],
          ] as const) {
            if (!run) missing.push(`${name} on ${label}: never ran`);
            else if (!run.IsRunComplete || run.Result !== 'success') missing.push(`${name} on ${label}: ${run.Result}`);
          }
        }
        return missing.length ? `Not yet completed without errors: ${missing.join('; ')}.` : null;
      },
      summarize: (r) => ({ pendingExports: pendingExportFigures(r.slice(2)).lines }),
      evidence: 'StagingModeEnabled; the latest Full Import and Full Synchronization per connector and their results; the pending exports per connector.',
    },
    {
      key: 'dirsync-retire',
      title: 'Parallel deployment: uninstall or disable DirSync (old server)',
      purpose:
        'Go-live gate: what the new server will export once it is active is read and shown before approval, and the approval binds to it. Once approved, a person uninstalls the Windows Azure Active Directory Sync tool, or shuts the server down or disables its service to keep a way back.',
      warning: NO_ROLLBACK,
      source: 'seed 003, "Uninstall DirSync (old server)"',
      approval: 'change-owners',
      production: true,
      skipIf: onlyParallel,
      preview: { reads: PENDING_EXPORT_READS, figures: (r) => pendingExportFigures(r) },
      action: {
        kind: 'manual',
        checklist: [
          'Programs and features → Windows Azure Active Directory Sync tool → Uninstall (up to 15 minutes); or shut the server down or disable the service.',
          'From now until the next step, no server exports changes.',
        ],
      },
      evidence: 'Who retired it, how, when; the pending exports approved.',
      effect: (_c, f) =>
        `DirSync stops exporting: nothing of ${f.forest ? `the forest's ${f.forest.objects.toLocaleString('en-US')} objects` : 'the forest'} syncs to Entra ID until ${stepRef(f, 'dirsync-leave-staging', 'the new server leaves staging mode')}.`,
    },
    {
      key: 'dirsync-leave-staging',
      title: 'Parallel deployment: take Entra Connect out of staging mode',
      purpose:
        "Go-live: the new server's pending exports (adds, updates, deletes, by object) are read and shown before approval, and the approval binds to them. Once approved, a person clears staging mode in the Entra Connect wizard and says so; the runner verifies it.",
      warning: NO_ROLLBACK,
      source: 'seed 003, "Enable Microsoft Entra Connect (new server)"',
      approval: 'change-owners',
      production: true,
      skipIf: onlyParallel,
      preview: { reads: PENDING_EXPORT_READS, figures: (r) => pendingExportFigures(r) },
      action: {
        kind: 'manual',
        checklist: [
          'In the Entra Connect wizard on the new server: Configure → Configure staging mode → clear "Enable staging mode" → Next → Configure (do not run the installer MSI again).',
          'Then press "Done — verify".',
        ],
        verify: scheduler,
      },
      expect: ([s]) =>
        s && !s.StagingModeEnabled
          ? null
          : 'StagingModeEnabled is still True: clear it in the Entra Connect wizard (do not run the installer MSI again), then say Done again.',
      evidence: 'The pending exports approved; StagingModeEnabled = False: Entra Connect is the active server.',
      effect: () => 'Entra Connect becomes the active server and exports the pending changes shown here.',
    },
  ],
};
