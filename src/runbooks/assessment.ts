import { csvDocument } from '../reports/csv.js';
import type { Migration, RunbookEngine, StepRow } from './engine.js';
import { withoutSeedNumbers } from './sources.js';
import { definitionOf } from './catalog.js';

/**
 * The pre-migration assessment (seed 002, "Pre-Migration Assessment"): one finding per check, each with what was
 * found, the limit it is held against and the evidence behind it. The step card and the downloadable report (CSV,
 * JSON) are both rendered from the findings stored in the step's evidence, so they say the same thing.
 */

/** Cloud Sync limits (seed 002). */
export const MAX_OBJECTS_PER_DOMAIN = 150_000;
export const MAX_GROUP_MEMBERS = 50_000;

export type FindingStatus = 'ok' | 'limit' | 'blocker' | 'human check';
export type FindingArea = 'Object counts' | 'Parity gaps' | 'Prerequisites' | 'Connect Sync' | 'Recommendation';

export interface AssessmentFinding {
  area: FindingArea;
  check: string;
  status: FindingStatus;
  result: string;
  limit: string | null;
  evidence: string;
}

export type Verdict = 'fully' | 'partially' | 'not yet';

/**
 * What the runner and Graph read for the assessment (runner: ad-domain-summary, get-sync-rules, get-company-features).
 * Not Get-ADSyncExportDeletionThreshold: its -AADUserName is mandatory and it signs in interactively, which a runner
 * under a gMSA cannot do. Not the agents API either: it takes delegated permissions only, and cutover is app-only.
 */
export interface AssessmentInputs {
  summary: {
    domain: string;
    users: number;
    groups: number;
    contacts: number;
    total: number;
    largestGroups: { dn: string; members: number }[];
    groupsWithoutConsistencyGuid: number;
  };
  customRules: { Name?: unknown; Direction?: unknown }[];
  features: {
    DeviceWriteback?: boolean;
    UserWriteback?: boolean;
    GroupWritebackV2?: boolean;
    PasswordHashSync?: boolean;
    PasswordWriteback?: boolean;
    ExchangeHybrid?: boolean;
  };
  /** Agent health as app-only Graph can infer it (job status, quarantine reasons, provisioning logs); null before any job exists. */
  agentHealth: { verdict: string; reasons: string[]; source?: string } | null;
  /** The OU batches the migration names (the candidates for a partial migration). */
  ous: string[];
}

const n = (x: number) => x.toLocaleString('en-US');

export function assessForest(i: AssessmentInputs) {
  const { summary, features } = i;
  const findings: AssessmentFinding[] = [];
  // Documents are cited by their titles, on the card and in the report alike (never "seed 004").
  const add = (area: FindingArea, check: string, status: FindingStatus, result: string, limit: string | null, evidence: string) =>
    findings.push({ area, check, status, result: withoutSeedNumbers(result), limit, evidence: withoutSeedNumbers(evidence) });

  // --- object counts
  add(
    'Object counts',
    `Objects in ${summary.domain}`,
    summary.total > MAX_OBJECTS_PER_DOMAIN ? 'blocker' : 'ok',
    `${n(summary.total)} (users ${n(summary.users)}, groups ${n(summary.groups)}, contacts ${n(summary.contacts)})`,
    `${n(MAX_OBJECTS_PER_DOMAIN)} objects per domain`,
    'ad-domain-summary: paged LDAP count of users, groups and contacts in the domain',
  );
  const bigGroups = summary.largestGroups.filter((g) => g.members > MAX_GROUP_MEMBERS);
  const largest = summary.largestGroups.map((g) => `${g.dn} (${n(g.members)})`).join('; ') || 'no groups';
  add(
    'Object counts',
    'Groups over 50,000 members',
    bigGroups.length ? 'limit' : 'ok',
    bigGroups.length ? `${bigGroups.length} stay on Connect Sync: ${bigGroups.map((g) => `${g.dn} (${n(g.members)} members)`).join('; ')}` : 'none',
    `${n(MAX_GROUP_MEMBERS)} members per group`,
    `largest groups: ${largest}`,
  );

  // --- parity gaps
  const flag = (name: string, on: boolean | undefined) => `Get-ADSyncAADCompanyFeature: ${name} = ${on ? 'True' : 'False'}`;
  add(
    'Parity gaps',
    'Device writeback',
    features.DeviceWriteback ? 'blocker' : 'ok',
    features.DeviceWriteback ? 'in use: no Cloud Sync parity; device sync and hybrid join stay on Connect Sync' : 'not in use',
    null,
    flag('DeviceWriteback', features.DeviceWriteback),
  );
  const rules = i.customRules.filter((r) => !/cutover/i.test(String(r.Name ?? '')));
  add(
    'Parity gaps',
    'Advanced (custom) sync rules',
    rules.length ? 'limit' : 'ok',
    rules.length ? `${rules.length} custom sync rule(s): advanced sync rules are a parity gap` : 'none',
    null,
    rules.length
      ? `Get-ADSyncRule (custom): ${rules.map((r) => `${r.Name}${r.Direction ? ` (${r.Direction})` : ''}`).join('; ')}`
      : "Get-ADSyncRule: only the standard rules (and cutover's own no-flow rules)",
  );
  add(
    'Parity gaps',
    'User writeback',
    features.UserWriteback ? 'limit' : 'ok',
    features.UserWriteback ? 'in use' : 'not in use',
    null,
    flag('UserWriteback', features.UserWriteback),
  );
  add(
    'Parity gaps',
    'Group writeback v2',
    features.GroupWritebackV2 ? 'limit' : 'ok',
    features.GroupWritebackV2 ? 'in use: migrate group writeback v2 with the group-writeback-v2 runbook (seed 004)' : 'not in use',
    null,
    flag('GroupWritebackV2', features.GroupWritebackV2),
  );
  add(
    'Parity gaps',
    'Device sync and hybrid join',
    'human check',
    'confirm Connect Sync does not synchronize devices (this guidance is for Express settings without device sync)',
    null,
    'not visible to the runner (the prerequisites of seed 000/001)',
  );
  add(
    'Parity gaps',
    'Attribute-based filtering',
    'human check',
    'confirm no attribute-based filtering is configured in Connect Sync',
    null,
    'not visible to the runner',
  );
  add(
    'Parity gaps',
    'Cross-forest references',
    'human check',
    'confirm no cross-forest references (e.g. managers or members in another forest)',
    null,
    'not visible to the runner',
  );
  add(
    'Parity gaps',
    'Pass-through authentication and AD FS',
    'human check',
    'configured separately from sync: plan them on their own',
    null,
    'not part of the sync configuration',
  );

  // --- prerequisites
  const h = i.agentHealth;
  add(
    'Prerequisites',
    'Cloud Sync provisioning agents',
    h?.verdict === 'unhealthy' ? 'limit' : 'human check',
    h && h.verdict !== 'unknown'
      ? `${h.verdict} (inferred: ${h.reasons.join('; ') || 'no problem seen'}); confirm at least one active agent, two for availability, in the Entra admin center`
      : 'confirm at least one active agent for the domain (two advised) in the Entra admin center: no Cloud Sync job has run yet to infer it from',
    'at least 1 active agent',
    "app-only Graph cannot list agents (the agents API takes delegated permissions only): health is inferred from the Cloud Sync job's status, quarantine reasons and provisioning logs",
  );
  add(
    'Prerequisites',
    'Agent version',
    'human check',
    'build 1.1.1367.0 or later for group provisioning to AD',
    '1.1.1367.0',
    'Graph does not report the agent build: check it on the agent server (seed 004)',
  );
  add(
    'Prerequisites',
    'Groups without ms-DS-ConsistencyGuid',
    summary.groupsWithoutConsistencyGuid > 0 ? 'limit' : 'ok',
    summary.groupsWithoutConsistencyGuid > 0
      ? `${n(summary.groupsWithoutConsistencyGuid)} group(s): hard-match risk when Cloud Sync takes them over`
      : 'none: every group has one',
    '0',
    'ad-domain-summary: groups whose ms-DS-ConsistencyGuid is empty',
  );
  add(
    'Prerequisites',
    'Source anchor',
    'human check',
    'Connect Sync uses ms-DS-ConsistencyGuid as source anchor (Express settings), as Cloud Sync does',
    null,
    'the anchor is chosen in the Connect wizard; not readable by the runner',
  );
  add(
    'Prerequisites',
    'Windows Server and AD schema for group scenarios',
    'human check',
    'Windows Server 2016 or later, and msDS-ExternalDirectoryObjectId in the schema (group provisioning to AD)',
    null,
    'the prerequisites of seed 004',
  );

  // --- what the tenant uses on Connect Sync: each moves to Cloud Sync before Connect is disabled, and nothing else is turned on
  add(
    'Connect Sync',
    'Password hash sync',
    'ok',
    features.PasswordHashSync
      ? 'in use: Cloud Sync gets the password hash mapping and job, verified before Connect is disabled'
      : 'not in use: not turned on in Cloud Sync',
    null,
    flag('PasswordHashSync', features.PasswordHashSync),
  );
  add(
    'Connect Sync',
    'Password writeback',
    features.PasswordWriteback ? 'limit' : 'ok',
    features.PasswordWriteback ? 'in use: enable Cloud Sync password writeback before Connect is disabled (the runbook checks it)' : 'not in use',
    null,
    `Get-ADSyncAADPasswordResetConfiguration: Enabled = ${features.PasswordWriteback ? 'True' : 'False'}`,
  );
  add(
    'Connect Sync',
    'Exchange hybrid writeback',
    features.ExchangeHybrid ? 'limit' : 'ok',
    features.ExchangeHybrid ? 'in use: Cloud Sync needs the Exchange hybrid writeback job before Connect is disabled' : 'not in use',
    null,
    `Connect's "Out to AD - User Exchange Hybrid" rule: ${features.ExchangeHybrid ? 'present and enabled' : 'absent or disabled'}`,
  );
  add(
    'Connect Sync',
    'Export deletion threshold',
    'human check',
    'read it on the Connect server (Get-ADSyncExportDeletionThreshold needs an interactive Entra sign-in, so cutover does not call it); Cloud Sync has its own accidental-delete threshold',
    'on (default 500 objects)',
    'Get-ADSyncExportDeletionThreshold -AADUserName is mandatory and prompts for sign-in',
  );
  add(
    'Connect Sync',
    "Tenant's accidental-delete prevention",
    'human check',
    "check it now with Get-AADCloudSyncToolsDirSyncAccidentalDeletionPrevention: when on, it holds Cloud Sync's deletes over its threshold as soon as Cloud Sync owns objects",
    null,
    'Graph directory/onPremisesSynchronization does not accept application permissions',
  );

  // --- recommendation
  const blockers = findings.filter((f) => f.status === 'blocker');
  const limits = findings.filter((f) => f.status === 'limit');
  const verdict: Verdict = blockers.length ? 'not yet' : limits.length ? 'partially' : 'fully';
  const ous = i.ous.join('; ') || 'choose the OUs';
  const recommendation =
    verdict === 'not yet'
      ? `not yet: a full migration is blocked; migrate only OUs free of the blockers (coexistence: ${ous}), or wait for parity`
      : verdict === 'partially'
        ? `partially (coexistence): migrate the OUs that only need basic sync (${ous}) and keep the rest on Connect Sync`
        : `migrate fully, OU by OU (${ous})`;
  const because = [...blockers, ...limits].map((f) => `${f.check}: ${f.result}`);
  add(
    'Recommendation',
    'Recommendation',
    blockers.length ? 'blocker' : limits.length ? 'limit' : 'ok',
    recommendation,
    null,
    because.length ? because.join(' | ') : 'no blocker or limit found',
  );

  return {
    recommendation,
    domain: summary.domain,
    featuresInUse: {
      passwordHashSync: !!features.PasswordHashSync,
      passwordWriteback: !!features.PasswordWriteback,
      exchangeHybrid: !!features.ExchangeHybrid,
    },
    objects: `${summary.total} (users ${summary.users}, groups ${summary.groups}, contacts ${summary.contacts}) of 150,000`,
    /** The domain's objects as numbers (a step's blast radius is stated with them). */
    counts: { users: summary.users, groups: summary.groups, contacts: summary.contacts, total: summary.total },
    verdict,
    blockers: blockers.map((f) => `${f.check}: ${f.result}`),
    limits: limits.map((f) => `${f.check}: ${f.result}`),
    findings,
  };
}

// ---------------------------------------------------------------- the report

export const STATUS_ICON: Record<FindingStatus, string> = { ok: '✅', limit: '⚠', blocker: '⛔', 'human check': '☐' };

/** The findings stored in an assessment step's evidence (null before it has run). */
export function findingsOf(step: Pick<StepRow, 'evidence'> | null | undefined): AssessmentFinding[] | null {
  const f = (step?.evidence as { findings?: unknown } | null)?.findings;
  return Array.isArray(f) ? (f as AssessmentFinding[]) : null;
}

/** How the step card shows a finding: one fact each. */
export function findingFact(f: AssessmentFinding): { title: string; value: string } {
  return { title: f.check, value: `${STATUS_ICON[f.status]} ${f.result}` };
}

export interface AssessmentReport {
  migration: { id: string; name: string; kind: string; domain: string; ous: string[] };
  assessedAt: string;
  verdict: Verdict | null;
  recommendation: string | null;
  findings: AssessmentFinding[];
}

/** The latest successful assessment of a migration, or null (no such migration, or not assessed yet). */
export async function loadAssessmentReport(engine: RunbookEngine, migrationId: string): Promise<AssessmentReport | null> {
  const m = await engine.getMigration(migrationId);
  if (!m) return null;
  const step = (await engine.getSteps(m.id)).find((s) => s.state === 'succeeded' && isAssessment(m, s) && findingsOf(s));
  if (!step) return null;
  const ev = step.evidence as { verdict?: Verdict; recommendation?: string };
  return {
    migration: { id: m.id, name: m.name, kind: m.kind, domain: m.domain, ous: m.ous },
    assessedAt: step.updatedAt.toISOString(),
    verdict: ev.verdict ?? null,
    recommendation: ev.recommendation ?? null,
    findings: findingsOf(step)!,
  };
}

export function isAssessment(m: Pick<Migration, 'kind'>, step: Pick<StepRow, 'key'>): boolean {
  const action = definitionOf(m.kind, step.key).action;
  return action.kind === 'graph' && action.operation === 'assess';
}

export const ASSESSMENT_COLUMNS = ['area', 'check', 'status', 'result', 'limit', 'evidence'] as const;

export function assessmentCsv(r: AssessmentReport): string {
  const head = [
    withoutSeedNumbers('# cutover assessment report (seed 002, "Pre-Migration Assessment")'),
    `# migration ${r.migration.name} (${r.migration.id}) · domain ${r.migration.domain} · assessed ${r.assessedAt}`,
    `# recommendation: ${r.recommendation ?? '—'}`,
  ];
  return csvDocument(head, ASSESSMENT_COLUMNS, r.findings);
}

export function assessmentJson(r: AssessmentReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
