import type { Facts, RunbookDefinition } from '../types.js';

/**
 * DirSync → Entra Connect (seed 003). The analysis chooses the path: in-place below 50,000 objects,
 * a parallel deployment at 50,000 or more (Microsoft estimates three hours per 50,000 objects).
 */
export const IN_PLACE_LIMIT = 50_000;
const NO_ROLLBACK =
  'After you have enabled your new Microsoft Entra Connect server to start syncing changes to Microsoft Entra ID, you must not roll back to using DirSync or Azure AD Sync: downgrading is not supported and can lead to data loss in Microsoft Entra ID. (seed 003)';

const objectCount = (f: Facts): number | undefined => f['dirsync-analysis']?.results?.[0]?.total;
const parallel = (f: Facts) => (objectCount(f) ?? 0) >= IN_PLACE_LIMIT;
const onlyInPlace = (f: Facts) => (parallel(f) ? `the analysis found ${objectCount(f)} objects (≥ ${IN_PLACE_LIMIT}): a parallel deployment is recommended instead` : null);
const onlyParallel = (f: Facts) => (parallel(f) ? null : `the analysis found ${objectCount(f)} objects (< ${IN_PLACE_LIMIT}): the in-place upgrade applies`);

export function upgradeEstimate(objects: number): { hours: number; path: 'in-place' | 'parallel' } {
  return { hours: Math.round((objects / IN_PLACE_LIMIT) * 3 * 10) / 10, path: objects < IN_PLACE_LIMIT ? 'in-place' : 'parallel' };
}

export const dirsyncUpgrade: RunbookDefinition = {
  kind: 'dirsync-upgrade',
  title: 'DirSync → Entra Connect',
  summary: 'Upgrade from DirSync (no longer working) to Microsoft Entra Connect, in place or by a parallel deployment.',
  ous: 'none',
  steps: [
    {
      key: 'dirsync-analysis',
      title: 'Analyse: object count and upgrade path',
      purpose: 'Count the objects (users, contacts, groups) to choose the path: in-place below 50,000 objects, parallel deployment at 50,000 or more.',
      warning: 'We estimate that if you have 50,000 or more objects, it takes more than three hours to do the upgrade. (seed 003)',
      source: 'seed 003, "Upgrade from DirSync" (the table of expected upgrade time and number of objects)',
      approval: 'none',
      production: false,
      action: { kind: 'runner', sequence: [{ action: 'ad-domain-summary', params: () => ({}) }] },
      evidence: 'Objects counted, the estimate (3 hours per 50,000 objects) and the recommended path.',
    },
    {
      key: 'dirsync-prerequisites',
      title: 'Check what the upgrade needs and what blocks it',
      purpose: "The requirements that differ from DirSync, the database choice, and the configurations that block an upgrade.",
      warning: 'Do not uninstall DirSync yourself before the upgrade: Entra Connect reads and migrates its configuration, and uninstalls it after inspecting the server. (seed 003)',
      source: 'seed 003, introduction, "DirSync configurations supported for upgrade"',
      approval: 'none',
      production: false,
      action: {
        kind: 'manual',
        checklist: [
          'Newer .NET and PowerShell versions than DirSync needed are installed.',
          'A proxy, if any, is configured machine-wide (Entra Connect uses machine settings, not the installing user\'s).',
          'The URLs Entra Connect needs are open in the proxy.',
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
      purpose: 'The wizard migrates the DirSync settings and resumes active sync on the same server.',
      warning: NO_ROLLBACK,
      source: 'seed 003, "In-place upgrade"',
      approval: 'change-owners',
      production: true,
      skipIf: onlyInPlace,
      action: {
        kind: 'manual',
        checklist: [
          'Run the Entra Connect installer on the DirSync server; the wizard shows the expected time.',
          'Accept the in-place upgrade; the current settings are applied and active sync resumes.',
          'Sign out and in again before using Synchronization Service Manager.',
        ],
      },
      evidence: 'Who ran it, when.',
    },
    {
      key: 'dirsync-export-settings',
      title: 'Parallel deployment: export the DirSync settings',
      purpose: 'On the DirSync server, run the Entra Connect wizard with "Export settings" to a settings file.',
      source: 'seed 003, "Parallel deployment" (Export the DirSync configuration)',
      approval: 'none',
      production: false,
      skipIf: onlyParallel,
      action: { kind: 'manual', checklist: ['Run the Entra Connect installer on the DirSync server and choose Export settings.', 'Copy the settings file to the new server.'] },
      evidence: 'Who exported, when.',
    },
    {
      key: 'dirsync-install-staging',
      title: 'Parallel deployment: install Entra Connect in staging mode on the new server',
      purpose: 'Install with /migrate, import the settings file; the server starts in staging mode and exports nothing.',
      warning: 'Only one sync tool at a time can actively export changes: the new server must stay in staging mode until DirSync is off. (seed 003)',
      source: 'seed 003, "Import the DirSync configuration to the new server" (AzureADConnect.msi /migrate)',
      approval: 'change-owners',
      production: true,
      skipIf: onlyParallel,
      action: {
        kind: 'manual',
        checklist: [
          'On the new server: AzureADConnect.msi /migrate, then select the exported settings file.',
          'Do not reuse the SQL Server instance DirSync uses.',
          'Leave "Start the synchronization process as soon as the configuration completes" selected: the server is in staging mode.',
          'Install the cutover runner on the new server and connect it.',
        ],
      },
      evidence: 'Who installed, when.',
    },
    {
      key: 'dirsync-verify-staging',
      title: 'Parallel deployment: verify Entra Connect is ready to take over',
      purpose: 'Full Import and Full Synchronization completed without errors on both connectors, in staging mode.',
      source: 'seed 003, "Verify that Microsoft Entra Connect is ready to begin sync"',
      approval: 'none',
      production: false,
      skipIf: onlyParallel,
      action: { kind: 'runner', sequence: [{ action: 'get-scheduler', params: () => ({}) }, { action: 'get-run-profile-results', params: () => ({ limit: 50 }) }] },
      expect: ([scheduler, runs]) => {
        if (!scheduler?.StagingModeEnabled) return 'The new server is not in staging mode: it would export alongside DirSync.';
        const results: any[] = runs?.results ?? [];
        const missing: string[] = [];
        for (const connector of new Set(results.map((r) => r.ConnectorName))) {
          for (const profile of ['Full Import', 'Full Synchronization']) {
            const ok = results.some((r) => r.ConnectorName === connector && r.RunProfileName === profile && r.IsRunComplete && r.Result === 'success');
            if (!ok) missing.push(`${profile} on ${connector}`);
          }
        }
        if (new Set(results.map((r) => r.ConnectorName)).size < 2) missing.push('runs on both the AD and the Entra connector');
        return missing.length ? `Not yet completed without errors: ${missing.join('; ')}.` : null;
      },
      evidence: 'StagingModeEnabled; the Full Import and Full Synchronization results per connector.',
    },
    {
      key: 'dirsync-retire',
      title: 'Parallel deployment: uninstall or disable DirSync (old server)',
      purpose: 'Uninstall the Windows Azure Active Directory Sync tool, or shut down the server or disable its service to keep a way back.',
      warning: NO_ROLLBACK,
      source: 'seed 003, "Uninstall DirSync (old server)"',
      approval: 'change-owners',
      production: true,
      skipIf: onlyParallel,
      action: {
        kind: 'manual',
        checklist: ['Programs and features → Windows Azure Active Directory Sync tool → Uninstall (up to 15 minutes); or shut the server down or disable the service.', 'From now until the next step, no server exports changes.'],
      },
      evidence: 'Who retired it, how, when.',
    },
    {
      key: 'dirsync-leave-staging',
      title: 'Parallel deployment: take Entra Connect out of staging mode',
      purpose: 'In the Entra Connect wizard: Configure staging mode → clear "Enable staging mode"; the runner verifies it.',
      warning: NO_ROLLBACK,
      source: 'seed 003, "Enable Microsoft Entra Connect (new server)"',
      approval: 'none',
      production: false,
      skipIf: onlyParallel,
      action: { kind: 'runner', sequence: [{ action: 'get-scheduler', params: () => ({}) }] },
      expect: ([s]) => (s && !s.StagingModeEnabled ? null : 'StagingModeEnabled is still True: clear it in the Entra Connect wizard (do not run the installer MSI again), then Retry.'),
      evidence: 'StagingModeEnabled = False: Entra Connect is the active server.',
    },
  ],
};
