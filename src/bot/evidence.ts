import type { ActionName, ActionResult } from '../actions/index.js';
import type { StepRow } from '../runbooks/engine.js';
import type { GraphOperation, StepDefinition } from '../runbooks/types.js';
import { everyInterval, formatSpan, formatTime } from './format.js';

/**
 * What a step proved, as a few labelled facts a person understands: one renderer per runner action of the catalog
 * (src/agent/actions.ts) and per Graph operation, chosen by what the step ran. No label is ever a JSON path; the whole
 * evidence stays behind "Details" on the card and in the audit (its export has every field).
 */

export interface Fact {
  title: string;
  value: string;
}

export interface EvidenceView {
  facts: Fact[];
  /** The whole evidence as an indented outline (bounded: the audit export has all of it), or null when there is none. */
  details: string | null;
}

interface Ctx {
  now: Date;
  /** When the step's evidence was recorded (the step's last change). */
  at?: Date;
  /** The action's validated parameters, as the plan shows them. */
  params?: Record<string, unknown>;
}

type Renderer<R> = (r: R, ctx: Ctx) => Fact[];

/** The most facts a card shows for one step; the rest are under Details. */
const MAX_FACTS = 16;
/** Details are bounded so that a card stays within Teams' message size. */
const MAX_DETAILS = 8_000;

// ---------------------------------------------------------------- words

const num = (n: number | null | undefined) => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');
const plural = (n: number, one: string, many = `${one}s`) => `${num(n)} ${n === 1 ? one : many}`;

/** "40 users, 2 groups, 2 contacts". */
export function objectCounts(c: { users?: number; inetOrgPersons?: number; groups?: number; contacts?: number }): string {
  const parts = [
    c.users !== undefined ? plural(c.users, 'user') : null,
    c.inetOrgPersons ? plural(c.inetOrgPersons, 'inetOrgPerson') : null,
    c.groups !== undefined ? plural(c.groups, 'group') : null,
    c.contacts !== undefined ? plural(c.contacts, 'contact') : null,
  ].filter(Boolean);
  return parts.join(', ');
}

/** A list in one value: the first few, then how many more. */
function some(items: string[], max = 5, none = 'none'): string {
  if (!items.length) return none;
  return items.length > max ? `${items.slice(0, max).join('; ')}; … and ${items.length - max} more` : items.join('; ');
}

const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})\b/g;

/** Text from an evidence field with its ISO timestamps written as every card writes times. */
export function humanTimes(text: string, now?: Date): string {
  return text.replace(ISO_TIME, (iso) => formatTime(iso, now));
}

const TYPE_LABEL: Record<string, string> = { user: 'user', inetOrgPerson: 'inetOrgPerson', group: 'group', contact: 'contact' };
const side = (t: 'ad' | 'entra') => (t === 'ad' ? 'AD connector' : 'Entra connector');
const onOff = (b: boolean) => (b ? 'on' : 'off');

// ---------------------------------------------------------------- runner actions

type Scheduler = ActionResult<'get-scheduler'>;

function schedulerFacts(s: Scheduler, ctx: Ctx, was?: boolean): Fact[] {
  const since = was !== undefined && was !== s.SyncCycleEnabled && ctx.at ? ` since ${formatTime(ctx.at, ctx.now)}` : '';
  const change = was === undefined ? '' : was === s.SyncCycleEnabled ? ` (it already was ${onOff(was)})` : ` (was ${onOff(was)})`;
  const facts: Fact[] = [
    {
      title: 'Scheduler',
      value: s.SyncCycleEnabled
        ? `on${since}: a sync cycle ${everyInterval(s.CurrentlyEffectiveSyncCycleInterval)}${change}`
        : `off${since}: no scheduled sync cycle runs${change}`,
    },
    {
      title: 'Staging mode',
      value: s.StagingModeEnabled ? 'on: this server exports nothing and runs no password hash sync or writeback' : 'off: this server exports',
    },
    {
      title: 'Next cycle',
      value:
        s.SyncCycleEnabled && s.NextSyncCycleStartTimeInUTC
          ? `${s.NextSyncCyclePolicyType === 'Initial' ? 'full (Initial)' : s.NextSyncCyclePolicyType.toLowerCase()} at ${formatTime(s.NextSyncCycleStartTimeInUTC, ctx.now)}`
          : 'none while the scheduler is off',
    },
  ];
  if (s.SyncCycleInProgress) facts.push({ title: 'Sync cycle', value: 'running now' });
  if (s.SchedulerSuspended) facts.push({ title: 'Scheduler suspended', value: 'yes (an upgrade or maintenance suspended it)' });
  return facts;
}

/** The rules of one object type in one fact: each rule's name, direction and precedence. */
function ruleFacts(rules: { name: string; direction: string; objectType: string; precedence: number; alreadyPresent: boolean; updated?: boolean }[]): Fact[] {
  const types = [...new Set(rules.map((r) => r.objectType))];
  return types.map((t) => ({
    title: `${(TYPE_LABEL[t] ?? t).replace(/^./, (c) => c.toUpperCase())} rules`,
    value: rules
      .filter((r) => r.objectType === t)
      .map(
        (r) =>
          `${r.name}: ${r.direction.toLowerCase()}, precedence ${r.precedence}${r.updated ? ', updated in place' : r.alreadyPresent ? ', already there' : ''}`,
      )
      .join('; '),
  }));
}

/** A Cloud Sync job's state in words: its schedule (enabled or not) and its last run. */
function jobState(schedule: unknown, status: unknown): string {
  const s = schedule === 'Active' ? 'enabled' : schedule === 'Disabled' ? 'not enabled yet' : String(schedule ?? '—').toLowerCase();
  return `${s}${status === 'NotRun' ? ', no run yet' : status ? `, status ${status}` : ''}`;
}

function tally(parts: [number, string][]): string {
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, w]) => `${num(n)} ${w}`)
      .join(', ') || 'nothing to do'
  );
}

function bytes(n: number): string {
  return n < 1024 ? `${n} bytes` : n < 1024 * 1024 ? `${Math.round(n / 102.4) / 10} KB` : `${Math.round(n / 104857.6) / 10} MB`;
}

const runProfile = (r: { RunProfileName: string; ConnectorName: string; Result: string; EndDate: string | null } | null, now: Date) =>
  r ? `${r.RunProfileName} ${r.Result}${r.EndDate ? `, ${formatTime(r.EndDate, now)}` : ''}` : 'never ran';

const TOOL: Record<string, string> = {
  dirsync: 'DirSync',
  'azure-ad-sync': 'Azure AD Sync',
  'entra-connect': 'Entra Connect',
  unknown: 'an unknown sync tool',
};

const FEATURE: Record<string, string> = {
  PasswordHashSync: 'password hash sync',
  PasswordWriteback: 'password writeback',
  GroupWritebackV2: 'group writeback v2',
  UnifiedGroupWriteback: 'Microsoft 365 group writeback',
  UserWriteback: 'user writeback',
  DeviceWriteback: 'device writeback',
  ExchangeHybrid: 'Exchange hybrid writeback',
};

/** One renderer per action of the runner's catalog (a test keeps this table complete). */
export const RUNNER_EVIDENCE: { [A in ActionName]: Renderer<ActionResult<A>> } = {
  'get-scheduler': (r, ctx) => schedulerFacts(r, ctx),
  'set-scheduler': (r, ctx) => schedulerFacts(r.scheduler, ctx, r.previousSyncCycleEnabled),
  'get-connector-run-status': (r) => [
    { title: 'Sync engine', value: r.busy ? `busy: ${some(r.running.map((x) => `${x.RunState} on ${x.ConnectorName}`))}` : 'idle' },
  ],
  'get-run-profile-results': (r, ctx) => [
    { title: 'Runs read', value: num(r.results.length) },
    ...r.results.slice(0, 3).map((x) => ({ title: 'Run', value: `${x.ConnectorName}: ${runProfile(x, ctx.now)}` })),
  ],
  'get-sync-rules': (r) => [
    { title: 'Custom sync rules', value: num(r.rules.length) },
    ...r.rules.slice(0, 6).map((x) => ({ title: `${x.Direction} rule`, value: `${x.Name} · precedence ${x.Precedence}${x.Disabled ? ' · disabled' : ''}` })),
  ],
  'get-company-features': (r) => {
    const on = Object.entries(FEATURE)
      .filter(([k]) => (r as Record<string, boolean>)[k])
      .map(([, v]) => v);
    const off = Object.entries(FEATURE)
      .filter(([k]) => !(r as Record<string, boolean>)[k])
      .map(([, v]) => v);
    return [
      { title: 'In use on Connect Sync', value: on.join(', ') || 'none of these features' },
      { title: 'Not in use', value: off.join(', ') || 'none' },
    ];
  },
  'get-export-deletion-threshold': (r) => [
    { title: 'Accidental-delete prevention', value: r.DeletionPrevention ? 'on' : 'off' },
    { title: 'Threshold', value: r.ThresholdCount ? plural(r.ThresholdCount, 'object') : `${r.ThresholdPercentage}%` },
  ],
  'get-connector-scope': (r) => [
    { title: 'AD connector', value: r.connectorName },
    { title: 'Included containers', value: some(r.includedContainers) },
    { title: 'Excluded containers', value: some(r.excludedContainers) },
    { title: 'Group filtering', value: r.groupFilteringGroupDn ? `only direct members of ${r.groupFilteringGroupDn}` : 'off' },
  ],
  'start-sync-cycle': (r) => {
    const failed = r.runs.filter((x) => x.Result !== 'success');
    return [
      { title: 'Sync cycle', value: `${r.policyType === 'Initial' ? 'full synchronization (Initial)' : 'delta'}: ${r.result}` },
      { title: 'Ran', value: formatSpan(r.startedAt, r.endedAt) },
      {
        title: 'Runs',
        value: failed.length
          ? `${failed.length} of ${r.runs.length} did not succeed: ${some(failed.map((x) => `${x.RunProfileName} on ${x.ConnectorName}: ${x.Result}`))}`
          : `${plural(r.runs.length, 'run')} on ${[...new Set(r.runs.map((x) => x.ConnectorName))].join(' and ') || 'no connector'}, all succeeded`,
      },
    ];
  },
  'create-noflow-rules': (r) => [
    {
      title: 'No-flow rules',
      value: `${tally([
        [r.created, 'created'],
        [r.updated, 'updated in place'],
        [r.alreadyPresent, 'already there'],
      ])}; they take effect at the next full synchronization`,
    },
    ...ruleFacts(r.rules),
    { title: 'OUs the rules cover', value: r.ous.join('; ') },
  ],
  'remove-noflow-rules': (r) => [
    { title: 'No-flow rules removed', value: num(r.removed.length) },
    ...(r.notPresent.length ? [{ title: 'Not present', value: num(r.notPresent.length) }] : []),
    { title: 'Takes effect', value: 'at the next full synchronization' },
  ],
  'get-noflow-status': (r) => {
    const types = (['user', 'inetOrgPerson', 'group', 'contact'] as const)
      .filter((t) => r.byType[t].objects > 0)
      .map((t) => `${t}s ${r.byType[t].withCloudNoFlow} of ${r.byType[t].objects}`);
    return [
      {
        title: 'cloudNoFlow in the metaverse',
        value: `${num(r.withCloudNoFlow)} of ${plural(r.objects, 'object')} of the OU${types.length ? ` (${types.join(', ')})` : ''}`,
      },
      ...(r.missingCloudNoFlow.length ? [{ title: 'Without cloudNoFlow', value: some(r.missingCloudNoFlow.map((m) => `${m.dn} (${m.objectClass})`)) }] : []),
      {
        title: 'Pending exports to Entra ID',
        value: r.pendingExportCount
          ? `${num(r.pendingExportCount)}: ${some(
              r.pendingExports.map((p) => `${p.operation} ${p.dn}`),
              3,
            )}`
          : 'none',
      },
    ];
  },
  'get-adsync-service': (r) => [{ title: 'ADSync service', value: `${r.status}, startup ${r.startupType}` }],
  'set-adsync-service': (r) => [
    { title: 'ADSync service', value: `${r.current.status}, startup ${r.current.startupType} (was ${r.previous.status}, ${r.previous.startupType})` },
  ],
  'create-group-writeback-noflow-rules': (r) => [
    {
      title: 'Group rules',
      value: tally([
        [r.created, 'created'],
        [r.alreadyPresent, 'already there'],
      ]),
    },
    ...ruleFacts(r.rules),
  ],
  'disable-group-writeback-v2': (r) => [
    { title: 'Group writeback v2', value: `off for the tenant, for good (${r.wasEnabled ? 'it was on' : 'it already was off'})` },
  ],
  'export-server-config': (r, ctx) => [
    {
      title: 'Configuration export',
      value: `${ctx.params?.label ? `${String(ctx.params.label)}: ` : ''}${plural(r.files.length, 'file')} (${bytes(r.files.reduce((a, f) => a + f.bytes, 0))}), taken ${formatTime(r.takenAt, ctx.now)}, in ${r.folder}`,
    },
  ],
  'ad-count': (r) => [{ title: 'In the OU', value: objectCounts(r) }],
  'ad-count-by-ou': (r) => [
    { title: 'Not moved yet', value: plural(r.total, 'object') },
    ...r.containers.slice(0, 5).map((c) => ({ title: 'Container', value: `${c.dn}: ${objectCounts(c)}` })),
    ...(r.containers.length > 5 ? [{ title: 'Containers', value: `… and ${r.containers.length - 5} more` }] : []),
  ],
  'ad-domain-summary': (r) => [
    { title: `Domain ${r.domain}`, value: `${objectCounts(r)} (${plural(r.total, 'object')})` },
    {
      title: 'Largest groups',
      value: some(
        r.largestGroups.map((g) => `${g.dn} (${plural(g.members, 'member')})`),
        3,
      ),
    },
    { title: 'Groups without ms-DS-ConsistencyGuid', value: num(r.groupsWithoutConsistencyGuid) },
  ],
  'ad-export-identities': (r) => [{ title: 'Identities read', value: `${plural(r.count, 'object')} under ${r.ou}` }],
  'ad-check-schema': (r) => [
    { title: 'msDS-ExternalDirectoryObjectId', value: r.hasExternalDirectoryObjectId ? 'in the schema' : 'not in the schema' },
    {
      title: 'Schema version',
      value: `${r.objectVersion} (${r.windowsServer2016OrLater ? 'Windows Server 2016 or later' : 'older than Windows Server 2016'})`,
    },
  ],
  'ad-copy-admin-description': (r) => [
    {
      title: r.applied ? 'Groups changed' : 'Groups to change',
      value: r.changes.length
        ? `${num(r.changes.length)}: ${some(
            r.changes.map((c) => `${c.dn} (${c.from ?? 'empty'} → ${c.to})`),
            3,
          )}`
        : 'none',
    },
    ...(r.conflicts.length
      ? [
          {
            title: 'Left alone (a different value is there)',
            value: some(
              r.conflicts.map((c) => c.dn),
              3,
            ),
          },
        ]
      : []),
  ],
  'get-pending-exports': (r) => [
    {
      title: `${side(r.connectorType)} pending exports`,
      value:
        `${r.connector}: ${plural(r.counts.add, 'add')}, ${plural(r.counts.update, 'update')}, ${plural(r.counts.delete, 'delete')}` +
        (r.writtenBackGroupDeletes ? `, of which ${plural(r.writtenBackGroupDeletes, 'delete')} of written-back groups` : '') +
        (r.truncated ? ` (the first ${num(r.objects.length)} of ${num(r.total)} listed)` : ''),
    },
  ],
  'get-last-full-runs': (r, ctx) =>
    r.connectors.map((c) => ({
      title: `${side(c.type)} full runs`,
      value: `${c.ConnectorName}: Full Import ${runProfile(c.fullImport, ctx.now).replace(/^Full Import /, '')}; Full Synchronization ${runProfile(c.fullSync, ctx.now).replace(/^Full Synchronization /, '')}`,
    })),
  'find-sync-accounts': (r, ctx) =>
    r.accounts.length
      ? r.accounts.map((a) => ({
          title: 'Sync service account',
          value: `${a.samAccountName}: ${TOOL[a.tool]}${a.computer ? ` on ${a.computer}` : ''}${a.whenCreated ? `, created ${formatTime(a.whenCreated, ctx.now)}` : ''}`,
        }))
      : [{ title: 'Sync service accounts', value: 'none found' }],
  'forest-object-count': (r) => [
    ...r.domains.map((d) => ({ title: `Domain ${d.domain}`, value: `${objectCounts(d)} (${plural(d.total, 'object')})` })),
    { title: 'Forest', value: plural(r.total, 'object') },
  ],
  'gwb-scope-report': (r) => {
    const reasons = new Map<string, number>();
    for (const g of r.groups.filter((x) => !x.inScope)) reasons.set(g.reason, (reasons.get(g.reason) ?? 0) + 1);
    return [
      { title: 'Groups in scope', value: num(r.inScope) },
      { title: 'Groups out of scope', value: r.outOfScope ? `${num(r.outOfScope)}: ${[...reasons].map(([why, n]) => `${n} ${why}`).join('; ')}` : 'none' },
    ];
  },
};

// ---------------------------------------------------------------- Graph operations

type Ev = Record<string, any>;
const text = (v: unknown) => (v === null || v === undefined ? '—' : Array.isArray(v) ? some(v.map(String), 8) : String(v));

/** Evidence whose fields are already labels in words (e.g. "User attributes"): one fact per field. */
const labelled: Renderer<Ev> = (ev) =>
  Object.entries(ev)
    .filter(([k]) => /\s/.test(k))
    .map(([k, v]) => ({ title: k, value: text(v) }));

const note = (ev: Ev): Fact[] => (typeof ev.note === 'string' ? [{ title: 'Note', value: ev.note }] : []);

/** One renderer per Graph operation (a test keeps this table complete); the assessment has its own card layout. */
export const GRAPH_EVIDENCE: Record<GraphOperation, Renderer<Ev>> = {
  assess: (ev) => [{ title: 'Recommendation', value: text(ev.recommendation) }],
  'configure-cloud-sync': (ev, ctx) => [
    { title: 'Cloud Sync scope', value: text(ev.scopedContainers) },
    {
      title: 'Configuration',
      value: ev.configurationChanged
        ? `changed (${plural(Number(ev.requestsSent ?? 0), 'request')} sent), ${formatTime(ev.configuredAt, ctx.now)}`
        : 'already as planned: nothing sent',
    },
    { title: 'Password hash sync', value: text(ev.passwordHashSync) },
    { title: 'Provisioning job', value: jobState(ev.schedule, ev.jobStatus) },
    { title: 'Provisioning job id', value: text(ev.provisioningJobId) },
  ],
  'provision-on-demand': (ev) => {
    if (!ev.result) return note(ev);
    const who = ev.user ? ['User', ev.user] : ev.group ? ['Group', ev.group] : ['Object', '—'];
    const steps = (ev.steps ?? []) as string[];
    const bad = steps.filter((s) => !/: Success$/i.test(s));
    return [
      { title: `${who[0]} provisioned`, value: String(who[1]) },
      { title: 'Result', value: `${ev.result}${ev.matched ? ', matched its existing Entra object' : ''}` },
      { title: 'Provisioning steps', value: steps.length ? (bad.length ? some(bad) : `${steps.map((s) => s.split(' ')[0]).join(', ')}: all succeeded`) : '—' },
      ...note(ev),
    ];
  },
  'start-cloud-sync-job': (ev, ctx) => [
    { title: 'Provisioning job', value: `${text(ev.action)}${ev.startedAt ? `, ${formatTime(ev.startedAt, ctx.now)}` : ''}` },
    { title: 'Job now', value: jobState(ev.schedule, ev.jobStatus) },
    { title: 'Provisioning job id', value: text(ev.provisioningJobId) },
  ],
  'verify-ou-counts': (ev, ctx) => [
    { title: 'Taken by Cloud Sync', value: `${text(ev.takenByCloudSync)} objects${ev.byType ? ` (${ev.byType})` : ''}` },
    ...(Array.isArray(ev.notTaken) && ev.notTaken.length ? [{ title: 'Not taken yet', value: some(ev.notTaken) }] : []),
    { title: 'Cloud Sync job', value: text(ev.jobStatus) },
    { title: 'Agents', value: humanTimes(text(ev.agentHealth), ctx.now) },
    ...(ev.humanCheck ? [{ title: 'To do by hand', value: String(ev.humanCheck) }] : []),
  ],
  'verify-all-ous': (ev) => [
    { title: 'Taken by Cloud Sync', value: text(ev.ous) },
    { title: 'Cloud Sync job', value: text(ev.jobStatus) },
  ],
  'verify-connect-owns-ou': (ev) => [
    { title: 'Back on Connect Sync', value: text(ev.ous) },
    { title: 'Cloud Sync scope (kept, paused)', value: text(ev.cloudSyncScope) },
    { title: 'Cloud Sync job', value: text(ev.cloudSyncJob) },
  ],
  'post-migration-validation': labelled,
  'configure-sync-features': labelled,
  'pause-cloud-sync-job': (ev) =>
    Array.isArray(ev.paused)
      ? [
          { title: 'Paused', value: plural(ev.paused.length, 'job') },
          { title: 'Jobs now', value: text(ev.jobs) },
          ...(ev.scopeKept ? [{ title: 'Scope', value: String(ev.scopeKept) }] : []),
        ]
      : note(ev),
  'check-accidental-delete-prevention': () => [],
  'verify-group-provisioning': (ev) =>
    ev.jobId
      ? [
          {
            title: 'Group provisioning job',
            value: `${jobState(ev.state, ev.status)}, ${ev.quarantine ? `quarantined: ${ev.quarantine}` : 'not quarantined'}`,
          },
          { title: 'Group provisioning job id', value: String(ev.jobId) },
        ]
      : [{ title: 'Cloud Sync jobs', value: text(ev.jobs) }],
  'verify-sync-resumed': (ev, ctx) => [
    { title: 'Directory sync', value: ev.onPremisesSyncEnabled ? 'enabled for the tenant' : 'not enabled for the tenant' },
    { title: 'Last sync Entra ID received', value: formatTime(ev.onPremisesLastSyncDateTime, ctx.now) },
    ...(ev.upgradeStartedAt ? [{ title: 'Upgrade began', value: formatTime(ev.upgradeStartedAt, ctx.now) }] : []),
  ],
  'restart-quarantined-job': (ev, ctx) =>
    ev.restarted
      ? [
          { title: 'Restarted', value: `resetScope "${text(ev.resetScope)}"${ev.restartedAt ? `, ${formatTime(ev.restartedAt, ctx.now)}` : ''}` },
          {
            title: 'Quarantine',
            value: ev.quarantineAfter
              ? `still quarantined: ${ev.quarantineAfter} (it was ${text(ev.quarantineBefore)})`
              : `lifted (it was ${text(ev.quarantineBefore)})`,
          },
          { title: 'Job now', value: `status ${text(ev.jobStatus)}` },
          { title: 'Job id', value: text(ev.jobId) },
        ]
      : [...note(ev), { title: 'Job id', value: text(ev.jobId) }],
};

// ---------------------------------------------------------------- what a runbook adds to a runner sequence

/** Facts a step's `summarize` adds to its evidence (src/runbooks/definitions), by field. */
const SUMMARY: Record<string, (v: any, ev: Ev) => Fact | null> = {
  syncTool: (v) => ({ title: 'Sync tool', value: String(v) }),
  objects: (v) => (typeof v === 'number' ? { title: 'Objects in the forest', value: num(v) } : null),
  domains: () => null, // the forest count's own facts list the domains
  estimateHours: (v) => ({ title: 'Upgrade estimate', value: `about ${v} hour${v === 1 ? '' : 's'} (Microsoft: 3 hours per 50,000 objects)` }),
  recommendedPath: (v, ev) => ({
    title: 'Upgrade path',
    value: ev.chosenPath && ev.chosenPath !== v ? `${ev.chosenPath}, chosen against the recommendation (${v})` : `${v} (recommended)`,
  }),
  chosenPath: () => null,
  override: () => null,
  inScopeGroups: (v) => (Array.isArray(v) ? { title: 'Groups that move', value: some(v, 3) } : null),
  outOfScopeGroups: (v) => (Array.isArray(v) && v.length ? { title: 'Groups that stay', value: some(v, 3) } : null),
  groupsStillInAd: (v) => ({ title: 'Groups in scope still in AD', value: num(v) }),
  pendingExports: (v) => (Array.isArray(v) ? { title: 'Pending exports', value: v.join('; ') } : null),
};

/** What the person doing a manual step recorded, and cutover's own bookkeeping fields. */
function peopleFacts(ev: Ev, ctx: Ctx): Fact[] {
  const out: Fact[] = [];
  if (ev.skipped) out.push({ title: 'Skipped', value: String(ev.skipped) });
  if (ev.confirmedBy) out.push({ title: 'Confirmed by', value: `${ev.confirmedBy}${ev.confirmedAt ? `, ${formatTime(ev.confirmedAt, ctx.now)}` : ''}` });
  if (Array.isArray(ev.checklist) && (ev.confirmedBy || ev.doneBy))
    out.push({ title: 'Checklist', value: `${plural(ev.checklist.length, 'item')} confirmed (see "What will run")` });
  if (ev.goAt) out.push({ title: 'Go-ahead given', value: formatTime(ev.goAt, ctx.now) });
  if (ev.doneBy) out.push({ title: 'Done by', value: `${ev.doneBy}${ev.doneAt ? `, ${formatTime(ev.doneAt, ctx.now)}` : ''}` });
  if (ev.markedDoneBy)
    out.push({
      title: 'Marked done by',
      value: `${ev.markedDoneBy}${ev.markedDoneAt ? `, ${formatTime(ev.markedDoneAt, ctx.now)}` : ''}${ev.note ? ` — ${ev.note}` : ''}`,
    });
  return out;
}

const BOOKKEEPING = new Set([
  'results',
  'transcript',
  'progress',
  'skipped',
  'confirmedBy',
  'confirmedAt',
  'checklist',
  'goAt',
  'doneBy',
  'doneAt',
  'awaitingOperator',
  'markedDoneBy',
  'markedDoneAt',
  'note',
]);

/** The operation a step's Graph evidence comes from (its action, or a manual step's verification). */
function graphOperationOf(def: StepDefinition): GraphOperation | null {
  if (def.action.kind === 'graph') return def.action.operation;
  if (def.action.kind === 'manual' && def.action.verify?.kind === 'graph') return def.action.verify.operation;
  return null;
}

/** A step's evidence as facts (and the whole of it for Details). */
export function evidenceView(def: StepDefinition, step: Pick<StepRow, 'evidence' | 'plan' | 'updatedAt'>, now: Date): EvidenceView {
  const ev = step.evidence as Ev | null;
  if (!ev || !Object.keys(ev).length) return { facts: [], details: null };
  const ctx: Ctx = { now, at: step.updatedAt };
  const facts: Fact[] = [...peopleFacts(ev, ctx)];
  let shown = new Set<string>(BOOKKEEPING);
  if (Array.isArray(ev.results)) {
    const plan = step.plan?.runner ?? [];
    ev.results.forEach((r: unknown, i: number) => {
      const action = plan[i]?.action;
      if (r === null || r === undefined) return;
      const render = action ? (RUNNER_EVIDENCE as Record<string, Renderer<any>>)[action] : undefined;
      try {
        facts.push(...(render ? render(r, { ...ctx, params: plan[i]?.params }) : fallback(r)));
      } catch {
        facts.push(...fallback(r)); // a result of an older shape: say what it holds rather than fail the card
      }
    });
    for (const [k, v] of Object.entries(ev)) {
      if (shown.has(k) || !SUMMARY[k]) continue;
      const f = SUMMARY[k](v, ev);
      if (f) facts.push(f);
      shown.add(k);
    }
  } else {
    const op = graphOperationOf(def);
    const rest = Object.fromEntries(Object.entries(ev).filter(([k]) => !BOOKKEEPING.has(k) || (k === 'note' && !ev.markedDoneBy)));
    if (op && Object.keys(rest).length) {
      try {
        facts.push(...GRAPH_EVIDENCE[op](rest, ctx));
      } catch {
        facts.push(...fallback(rest));
      }
      shown = new Set([...shown, ...Object.keys(rest)]);
    }
  }
  const unshown = Object.keys(ev).filter((k) => !shown.has(k));
  if (!facts.length && unshown.length) facts.push(...fallback(Object.fromEntries(unshown.map((k) => [k, ev[k]]))));
  const bounded = facts.slice(0, MAX_FACTS).map((f) => ({ title: f.title, value: humanTimes(f.value, now) }));
  if (facts.length > MAX_FACTS) bounded.push({ title: 'More', value: `${plural(facts.length - MAX_FACTS, 'more fact')}: see Details` });
  return { facts: bounded, details: detailsOf(ev) };
}

/** A result no renderer knows: what it holds in a word, never its field paths. */
export function fallback(r: unknown): Fact[] {
  if (r === null || typeof r !== 'object') return [{ title: 'Result', value: String(r) }];
  const n = Array.isArray(r) ? r.length : Object.keys(r).length;
  return [{ title: 'Result', value: `${n} ${Array.isArray(r) ? 'item' : 'field'}${n === 1 ? '' : 's'}: see Details` }];
}

/**
 * The whole evidence as an indented outline (field: value, lists numbered), strings exactly as recorded (a DN keeps
 * its single backslash, where JSON would double it); cut at a bound with a pointer to the audit export, which holds all
 * of it.
 */
export function detailsOf(ev: unknown): string {
  const all = outline(ev, '').join('\n');
  if (all.length <= MAX_DETAILS) return all;
  return `${all.slice(0, MAX_DETAILS)}\n… (${num(all.length - MAX_DETAILS)} more characters: the whole evidence is in the audit, npm run audit:verify -- --export json)`;
}

function outline(v: unknown, pad: string): string[] {
  if (v === null || v === undefined) return [`${pad}—`];
  if (typeof v !== 'object')
    return String(v)
      .split('\n')
      .map((l) => `${pad}${l}`);
  const entries: [string, unknown][] = Array.isArray(v)
    ? v.map((x, i) => [`${i + 1}.`, x])
    : Object.entries(v as Record<string, unknown>).map(([k, x]) => [`${k}:`, x]);
  if (!entries.length) return [`${pad}${Array.isArray(v) ? '(none)' : '—'}`];
  const out: string[] = [];
  for (const [k, x] of entries) {
    const scalar = x === null || x === undefined || typeof x !== 'object';
    if (scalar && !String(x ?? '—').includes('\n')) out.push(`${pad}${k} ${x ?? '—'}`);
    else if (Array.isArray(x) && x.every((y) => y === null || typeof y !== 'object') && x.join('; ').length <= 100)
      out.push(`${pad}${k} ${x.join('; ') || '(none)'}`);
    else if (Array.isArray(v)) {
      // a list item: its first line beside its number, the rest under it
      const inner = outline(x, `${pad}${' '.repeat(k.length + 1)}`);
      out.push(`${pad}${k} ${inner[0].trimStart()}`, ...inner.slice(1));
    } else out.push(`${pad}${k}`, ...outline(x, `${pad}  `));
  }
  return out;
}
