import {
  GraphPlanError,
  includedContainersOf,
  jobIsOfTemplate,
  judgeProvisionOnDemand,
  type CloudSyncOutcome,
  type Graph,
  type SyncedObjectIndex,
  type SyncJob,
} from '../graph/index.js';
import { normalizeDn } from '../dn.js';
import { sourceAnchorOf } from '../identity.js';
import type { EnginePorts, PlannedGraphRequest } from './engine.js';
import type { Facts, GraphOperation, MigrationContext } from './types.js';
import { assessForest } from './assessment.js';
import { restartJobParams } from './definitions/incident-steps.js';

/** Per-tenant Graph access: the composition root decides credentials (sandbox, secret, managed identity). */
export interface TenantGraphs {
  graph(tenantId: string): Graph;
  /** The delta-maintained index of synced users, one per tenant. */
  index(tenantId: string): SyncedObjectIndex;
}

/** A read through the on-premises runner (awaited). */
export type RunnerRead = (tenantId: string, action: string, params: Record<string, unknown>, runnerName?: string) => Promise<any>;

export interface GraphActionOptions {
  /** Cloud Sync's quarantine and accidental-delete e-mails (SyncNotificationSettings). */
  notificationEmail?: string;
  /** "Verify the OU": how long to wait for Cloud Sync to take every object (default 60 min), and how often to look. */
  verifyWaitMs?: number;
  verifyPollMs?: number;
}

type JobRef = { servicePrincipalId: string; jobId: string };

const TEMPLATE = {
  provisioning: 'AD2AADProvisioning',
  passwordHash: 'AD2AADPasswordHash',
  exchange: 'AAD2ADExchangeHybridWriteback',
  groupProvisioning: 'AAD2ADGroupProvisioning',
} as const;

/** Provisioning logs are kept 30 days: "every outcome" means within that window. */
const LOG_RETENTION_MS = 29 * 86_400_000;

export async function provisioningJob(g: Graph, domain: string): Promise<{ servicePrincipalId: string; job: SyncJob; jobs: SyncJob[] } | null> {
  const sp = await g.findServicePrincipal(domain);
  if (!sp) return null;
  const jobs = await g.listJobs(sp.id);
  const job = jobs.find((j) => jobIsOfTemplate(j, TEMPLATE.provisioning));
  return job ? { servicePrincipalId: sp.id, job, jobs } : null;
}

/** What the tenant uses on Connect Sync, as the assessment found it: only those move to Cloud Sync. */
function featuresInUse(facts: Facts): { passwordHashSync: boolean; passwordWriteback: boolean; exchangeHybrid: boolean } {
  const f = facts.assessment?.featuresInUse ?? {};
  return { passwordHashSync: f.passwordHashSync === true, passwordWriteback: f.passwordWriteback === true, exchangeHybrid: f.exchangeHybrid === true };
}

const strip = (reqs: { method: string; path: string; body?: unknown }[]): PlannedGraphRequest[] =>
  reqs.map(({ method, path, body }) => ({ method, path, body }));

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

function outcomeLine(o: CloudSyncOutcome, dnOf: Map<string, string>): string {
  const dn = dnOf.get(o.objectGUID.toLowerCase()) ?? o.objectGUID;
  switch (o.outcome) {
    case 'failed':
      return `${dn}: failed${o.errorCode ? ` (${o.errorCode}${o.reason ? `: ${o.reason}` : ''})` : ''}`;
    case 'skipped':
      return `${dn}: skipped${o.reason ? ` (${o.reason})` : ''}`;
    case 'deleted':
      return `${dn}: deleted by Cloud Sync`;
    case 'not-seen':
      return `${dn}: not in Cloud Sync's provisioning logs yet`;
    default:
      return `${dn}: ${o.outcome}`;
  }
}

/**
 * The Graph (and Graph + runner read) operations the runbooks name. Each mutating operation has a describe
 * twin returning exactly the requests it will send: approvers approve those.
 */
export function graphActions(tenants: TenantGraphs, runnerRead: RunnerRead, opts: GraphActionOptions = {}): EnginePorts['graph'] {
  const g = (ctx: MigrationContext) => tenants.graph(ctx.tenantId);
  const waitMs = opts.verifyWaitMs ?? 60 * 60_000;
  const pollMs = Math.max(10, opts.verifyPollMs ?? 60_000);

  async function mustJob(ctx: MigrationContext) {
    const found = await provisioningJob(g(ctx), ctx.domain);
    if (!found) throw new Error(`No Cloud Sync provisioning job exists for ${ctx.domain}: run "Configure Cloud Sync" first.`);
    return { ...found, ref: { servicePrincipalId: found.servicePrincipalId, jobId: found.job.id } as JobRef };
  }

  /** The job a restart step names, checked again: one of the Cloud Sync jobs of the migration's domain, and its reset scope. */
  async function restartTarget(ctx: MigrationContext): Promise<{ ref: JobRef; resetScope: string; reason: string }> {
    const p = restartJobParams(ctx.params ?? {});
    if (!p.ok) throw new GraphPlanError('InvalidParameters', p.reason);
    const sp = await g(ctx).findServicePrincipal(ctx.domain);
    const jobs = sp ? await g(ctx).listJobs(sp.id) : [];
    if (!sp || !jobs.some((j) => j.id === p.params.jobId))
      throw new GraphPlanError('JobNotFound', `${p.params.jobId} is not a Cloud Sync job of ${ctx.domain}'s configuration (any more).`);
    return { ref: { servicePrincipalId: sp.id, jobId: p.params.jobId }, resetScope: p.params.resetScope, reason: p.params.reason };
  }

  /** The object provisioned on demand: the OU's first user, else its first group (the API takes users and groups); null when it has neither. */
  async function sampleObject(ctx: MigrationContext): Promise<{ dn: string; type: 'user' | 'group' } | null> {
    for (const type of ['user', 'group'] as const) {
      const r = await runnerRead(ctx.tenantId, 'ad-export-identities', { ou: ctx.ou, classes: [type] }, ctx.runnerName ?? undefined);
      const first = (r.objects ?? []).map((o: any) => o.dn).sort()[0];
      if (first) return { dn: first, type };
    }
    return null;
  }

  const configInput = (ctx: MigrationContext, facts: Facts, extra: { exchangeHybridWriteback?: boolean } = {}) => ({
    domain: ctx.domain,
    passwordHashSync: featuresInUse(facts).passwordHashSync,
    containers: ctx.batchOus,
    ...(opts.notificationEmail ? { notificationEmail: opts.notificationEmail } : {}),
    ...extra,
  });

  /**
   * Which objects of these OUs Cloud Sync has taken (its provisioning logs since `since`), object by object, in one pass
   * over the logs for all the OUs. Waits up to `wait` for objects not seen yet (its first cycle of a large OU takes a
   * while); a failure is final at once.
   */
  async function taken(ctx: MigrationContext, jobId: string, ous: string[], since: Date, wait: number) {
    const objects: Array<{ dn: string; objectClass: string; objectGUID: string; ou: string }> = [];
    for (const ou of ous) {
      const found =
        (await runnerRead(ctx.tenantId, 'ad-export-identities', { ou, classes: ['user', 'group', 'contact'] }, ctx.runnerName ?? undefined)).objects ?? [];
      objects.push(...found.map((o: any) => ({ ...o, ou })));
    }
    const byGuid = new Map(objects.map((o) => [o.objectGUID.toLowerCase(), o]));
    const deadline = Date.now() + wait;
    let outcomes: CloudSyncOutcome[] = [];
    for (;;) {
      outcomes = objects.length
        ? (
            await g(ctx).cloudSyncOutcomes(
              jobId,
              objects.map((o) => o.objectGUID),
              since,
            )
          ).outcomes
        : [];
      const pending = outcomes.filter((o) => o.outcome === 'not-seen');
      const bad = outcomes.filter((o) => o.outcome === 'failed' || o.outcome === 'deleted');
      if (!pending.length || bad.length || Date.now() + pollMs > deadline) break;
      await delay(pollMs);
    }
    const dnOf = new Map(objects.map((o) => [o.objectGUID.toLowerCase(), o.dn]));
    return ous.map((ou) => {
      const mine = outcomes.filter((o) => byGuid.get(o.objectGUID.toLowerCase())?.ou === ou);
      const tally: Record<string, { objects: number; taken: number }> = {};
      for (const o of mine) {
        const t = (tally[byGuid.get(o.objectGUID.toLowerCase())!.objectClass] ??= { objects: 0, taken: 0 });
        t.objects++;
        if (o.outcome === 'taken' || o.outcome === 'skipped') t.taken++;
      }
      const notTaken = mine.filter((o) => o.outcome !== 'taken' && o.outcome !== 'skipped');
      return { ou, objects: mine.length, taken: mine.length - notTaken.length, notTaken, tally, dnOf };
    });
  }

  return {
    async describe(op: GraphOperation, ctx: MigrationContext, facts: Facts = {}): Promise<PlannedGraphRequest[]> {
      switch (op) {
        case 'assess':
          return [{ method: 'GET', path: '/beta/servicePrincipals/{id}/synchronization/jobs (agent health, when a configuration exists)' }];
        case 'verify-ou-counts':
        case 'verify-all-ous':
          return [
            { method: 'GET', path: "/v1.0/auditLogs/provisioning?$filter=jobId eq '{provisioningJobId}' and activityDateTime gt … (each object of the OU)" },
          ];
        case 'verify-connect-owns-ou':
          return [{ method: 'GET', path: '/v1.0/users/delta?$select=id,onPremisesDistinguishedName,… (synced users; OUs matched by DN, exactly)' }];
        case 'post-migration-validation':
          return [
            { method: 'GET', path: '/v1.0/users/delta?$select=id,userPrincipalName,mail,displayName,proxyAddresses,onPremisesImmutableId,…' },
            { method: 'GET', path: "/v1.0/auditLogs/provisioning?$filter=jobId eq '{provisioningJobId}'" },
          ];
        case 'check-accidental-delete-prevention':
          return [];
        case 'verify-group-provisioning':
          return [{ method: 'GET', path: '/beta/servicePrincipals/{id}/synchronization/jobs (the AAD2ADGroupProvisioning job: running, not quarantined)' }];
        case 'verify-sync-resumed':
          return [{ method: 'GET', path: '/v1.0/organization?$select=id,onPremisesSyncEnabled,onPremisesLastSyncDateTime' }];
        case 'configure-cloud-sync':
          return strip(await g(ctx).describeCloudSyncConfiguration(configInput(ctx, facts)));
        case 'provision-on-demand': {
          const found = await provisioningJob(g(ctx), ctx.domain);
          const sample = await sampleObject(ctx);
          if (!sample) return [];
          if (!found)
            return [
              {
                method: 'POST',
                path: '/beta/servicePrincipals/{servicePrincipalId}/synchronization/jobs/{provisioningJobId}/provisionOnDemand',
                body: { parameters: [{ ruleId: '{rule id from the schema}', subjects: [{ objectId: sample.dn, objectTypeName: sample.type }] }] },
              },
            ];
          const ref = { servicePrincipalId: found.servicePrincipalId, jobId: found.job.id };
          return strip(g(ctx).describeProvisionOnDemand(ref, await g(ctx).provisioningRuleId(ref), sample.dn, sample.type));
        }
        case 'start-cloud-sync-job': {
          const found = await provisioningJob(g(ctx), ctx.domain);
          if (!found) return [{ method: 'POST', path: '/beta/servicePrincipals/{servicePrincipalId}/synchronization/jobs/{provisioningJobId}/start' }];
          const ref = { servicePrincipalId: found.servicePrincipalId, jobId: found.job.id };
          if (found.job.schedule.state === 'Active')
            return strip(
              await g(ctx)
                .describeRestartProvisioningAfterScopeChange(ref)
                .catch(() => []),
            );
          const phs = featuresInUse(facts).passwordHashSync
            ? found.jobs.find((j) => jobIsOfTemplate(j, TEMPLATE.passwordHash) && j.schedule.state !== 'Active')
            : undefined;
          return strip([
            ...g(ctx).describeStartJob(ref),
            ...(phs ? g(ctx).describeStartJob({ servicePrincipalId: found.servicePrincipalId, jobId: phs.id }) : []),
          ]);
        }
        case 'configure-sync-features': {
          const used = featuresInUse(facts);
          const found = await provisioningJob(g(ctx), ctx.domain);
          const out: PlannedGraphRequest[] = [];
          if (used.passwordHashSync && found) {
            const phs = found.jobs.find((j) => jobIsOfTemplate(j, TEMPLATE.passwordHash));
            if (phs && phs.schedule.state !== 'Active')
              out.push(...strip(g(ctx).describeStartJob({ servicePrincipalId: found.servicePrincipalId, jobId: phs.id })));
          }
          if (used.exchangeHybrid) out.push(...strip(await g(ctx).describeCloudSyncConfiguration(configInput(ctx, facts, { exchangeHybridWriteback: true }))));
          return out;
        }
        case 'pause-cloud-sync-job': {
          const found = await provisioningJob(g(ctx), ctx.domain);
          return found
            ? found.jobs
                .filter((j) => j.schedule.state === 'Active')
                .flatMap((j) => strip(g(ctx).describePauseJob({ servicePrincipalId: found.servicePrincipalId, jobId: j.id })))
            : [];
        }
        case 'restart-quarantined-job': {
          const { ref, resetScope } = await restartTarget(ctx);
          return strip(g(ctx).describeRestartJob(ref, resetScope));
        }
      }
    },

    async run(op: GraphOperation, ctx: MigrationContext, facts: Facts) {
      const graph = g(ctx);
      switch (op) {
        case 'assess': {
          const [summary, rules, features, found] = await Promise.all([
            runnerRead(ctx.tenantId, 'ad-domain-summary', {}, ctx.runnerName ?? undefined),
            runnerRead(ctx.tenantId, 'get-sync-rules', { customOnly: true }, ctx.runnerName ?? undefined),
            runnerRead(ctx.tenantId, 'get-company-features', {}, ctx.runnerName ?? undefined),
            provisioningJob(graph, ctx.domain),
          ]);
          const agentHealth = found ? await graph.agentHealth({ servicePrincipalId: found.servicePrincipalId, jobId: found.job.id }).catch(() => null) : null;
          return { ok: true, evidence: assessForest({ summary, customRules: rules.rules ?? [], features, agentHealth, ous: ctx.allOus }) };
        }
        case 'configure-cloud-sync': {
          const configuredAt = graph.clock.now().toISOString();
          const cfg = await graph.ensureCloudSyncConfiguration(configInput(ctx, facts));
          const job = await graph.getJob({ servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.provisioningJobId });
          return {
            ok: true,
            evidence: {
              configuredAt,
              servicePrincipalId: cfg.servicePrincipalId,
              provisioningJobId: cfg.provisioningJobId,
              passwordHashJobId: cfg.passwordHashJobId ?? null,
              passwordHashSync: featuresInUse(facts).passwordHashSync
                ? 'the tenant uses it: CredentialData mapping and the AD2AADPasswordHash job configured'
                : 'not used by the tenant: not configured',
              scopedContainers: cfg.includedContainers,
              configurationChanged: cfg.changed,
              requestsSent: cfg.requests.length,
              jobStatus: job.status.code,
              schedule: job.schedule.state,
            },
          };
        }
        case 'provision-on-demand': {
          const { ref } = await mustJob(ctx);
          const sample = await sampleObject(ctx);
          if (!sample)
            return {
              ok: true,
              evidence: {
                note: `${ctx.ou} holds no user or group (provisioning on demand takes those): nothing to provision; the verify step checks every object Cloud Sync takes.`,
              },
            };
          const dn = sample.dn;
          const r = await graph.provisionOnDemand(ref, await graph.provisioningRuleId(ref), dn, sample.type);
          const verdict = judgeProvisionOnDemand(r);
          const evidence = {
            [sample.type]: dn,
            result: r.result,
            action: r.action,
            matched: verdict.matched,
            steps: r.steps.map((s) => `${s.type} ${s.name}: ${s.status}`),
            targetId: r.targetId,
            note: verdict.message,
          };
          return verdict.ok ? { ok: true, evidence } : { ok: false, evidence, error: `${dn}: ${verdict.message}` };
        }
        case 'start-cloud-sync-job': {
          const { ref, job, jobs } = await mustJob(ctx);
          const startedAt = graph.clock.now().toISOString();
          try {
            if (job.schedule.state === 'Active') {
              // A running job keeps the scope it started with: a restart makes it read the new one.
              await graph.restartProvisioningAfterScopeChange(ref);
            } else {
              await graph.startJob(ref);
              const phs = jobs.find((j) => jobIsOfTemplate(j, TEMPLATE.passwordHash));
              if (featuresInUse(facts).passwordHashSync && phs && phs.schedule.state !== 'Active')
                await graph.startJob({ servicePrincipalId: ref.servicePrincipalId, jobId: phs.id });
            }
          } catch (e) {
            if (e instanceof GraphPlanError && e.code === 'JobQuarantined') {
              return {
                ok: false,
                evidence: { provisioningJobId: ref.jobId, jobStatus: 'Quarantine' },
                error: `${e.message} cutover does not clear a quarantine silently: fix its cause, then Retry.`,
              };
            }
            throw e;
          }
          const after = await graph.getJob(ref);
          return {
            ok: true,
            evidence: {
              provisioningJobId: ref.jobId,
              action: job.schedule.state === 'Active' ? 'restarted (resetScope Watermark) to pick up the new scope' : 'started',
              startedAt,
              jobStatus: after.status.code,
              schedule: after.schedule.state,
            },
          };
        }
        case 'verify-ou-counts': {
          // Since the OU entered the configuration (provision on demand counts too), a second early: the filter is strict (gt).
          const started = facts['configure-cloud-sync']?.configuredAt ?? facts['enable-cloud-sync']?.startedAt;
          const since = new Date(started ? Date.parse(started) - 1000 : graph.clock.now().getTime() - LOG_RETENTION_MS);
          const { ref, job } = await mustJob(ctx);
          const [t] = await taken(ctx, ref.jobId, [ctx.ou!], since, waitMs);
          const health = await graph.agentHealth(ref).catch(() => null);
          const evidence: Record<string, unknown> = {
            ou: ctx.ou,
            takenByCloudSync: `${t.taken} of ${t.objects}`,
            byType: Object.entries(t.tally)
              .map(([k, v]) => `${k}: ${v.taken} of ${v.objects}`)
              .join(', '),
            notTaken: t.notTaken.slice(0, 20).map((o) => outcomeLine(o, t.dnOf)),
            jobStatus: job.status.code,
            agentHealth: health ? `${health.verdict}: ${health.reasons.join(' ')} (inferred from ${health.source})` : 'unknown',
            humanCheck:
              'Create a test user in the OU and confirm Cloud Sync provisions it (Microsoft Learn, migrating to Cloud Sync: "If you create a new user in this OU, verify that it\'s being provisioned").',
          };
          if (t.notTaken.length) {
            return {
              ok: false,
              evidence,
              error: `Cloud Sync has not taken ${t.notTaken.length} of ${t.objects} objects in ${ctx.ou}: ${t.notTaken
                .slice(0, 5)
                .map((o) => outcomeLine(o, t.dnOf))
                .join('; ')}${t.notTaken.length > 5 ? '; …' : ''}.`,
            };
          }
          return { ok: true, evidence };
        }
        case 'verify-all-ous': {
          const since = new Date(graph.clock.now().getTime() - LOG_RETENTION_MS);
          const { ref, job } = await mustJob(ctx);
          const rows: string[] = [];
          const problems: string[] = [];
          for (const t of await taken(ctx, ref.jobId, ctx.batchOus, since, 0)) {
            rows.push(`${t.ou}: ${t.taken} of ${t.objects} taken by Cloud Sync`);
            if (t.notTaken.length)
              problems.push(
                `${t.ou}: ${t.notTaken
                  .slice(0, 3)
                  .map((o) => outcomeLine(o, t.dnOf))
                  .join('; ')}`,
              );
          }
          const evidence = { ous: rows, jobStatus: job.status.code };
          if (job.status.code === 'Quarantine') return { ok: false, evidence, error: 'The Cloud Sync job is in quarantine.' };
          return problems.length ? { ok: false, evidence, error: `Not every object is on Cloud Sync: ${problems.join(' | ')}.` } : { ok: true, evidence };
        }
        case 'verify-connect-owns-ou': {
          const index = tenants.index(ctx.tenantId);
          await index.refresh();
          const rows: string[] = [];
          const problems: string[] = [];
          for (const ou of ctx.rollbackOus) {
            const status = await runnerRead(ctx.tenantId, 'get-noflow-status', { ou }, ctx.runnerName ?? undefined);
            const onPrem = (await runnerRead(ctx.tenantId, 'ad-count', { ou }, ctx.runnerName ?? undefined)).users as number;
            const entra = index.countUnder(ou);
            rows.push(
              `${ou}: ${status.objects} objects, ${status.withCloudNoFlow} still with cloudNoFlow, ${status.pendingExportCount} pending exports; users on-premises ${onPrem} · Entra ${entra}`,
            );
            if (status.withCloudNoFlow > 0)
              problems.push(`${status.withCloudNoFlow} objects of ${ou} still carry cloudNoFlow (the full synchronization has not taken the rules away)`);
            if (status.pendingExportCount > 0) problems.push(`Connect holds ${status.pendingExportCount} exports for ${ou} it has not made`);
            if (entra !== onPrem) problems.push(`${ou}: Entra has ${entra} users, Active Directory ${onPrem}`);
          }
          const found = await provisioningJob(graph, ctx.domain);
          const scope = found ? includedContainersOf(await graph.getSchema({ servicePrincipalId: found.servicePrincipalId, jobId: found.job.id })) : [];
          const evidence = { ous: rows, cloudSyncScope: scope, cloudSyncJob: found ? `${found.job.status.code} (${found.job.schedule.state})` : 'none' };
          if (found && found.job.schedule.state === 'Active' && scope.some((c) => ctx.rollbackOus.some((o) => normalizeDn(o) === normalizeDn(c)))) {
            problems.push('the Cloud Sync job runs with a rolled-back OU in its scope');
          }
          return problems.length ? { ok: false, evidence, error: `${problems.join('; ')}.` } : { ok: true, evidence };
        }
        case 'post-migration-validation': {
          const index = tenants.index(ctx.tenantId);
          await index.refresh();
          let compared = 0;
          const drift: string[] = [];
          for (const ou of ctx.batchOus) {
            const onPrem = (await runnerRead(ctx.tenantId, 'ad-export-identities', { ou, classes: ['user'] }, ctx.runnerName ?? undefined)).objects as any[];
            const entra = new Map(index.objectsUnder(ou).map((u) => [u.onPremisesImmutableId, u]));
            for (const o of onPrem) {
              const u = entra.get(sourceAnchorOf({ objectGUID: o.objectGUID, consistencyGuid: o.consistencyGuid }));
              compared++;
              if (!u) {
                drift.push(`${o.dn}: missing in Entra`);
                continue;
              }
              const diffs = [
                (u.displayName ?? null) !== (o.displayName ?? null) && 'displayName',
                (u.mail ?? '').toLowerCase() !== (o.mail ?? '').toLowerCase() && 'mail',
                (u.userPrincipalName ?? '').toLowerCase() !== (o.userPrincipalName ?? '').toLowerCase() && 'userPrincipalName',
              ].filter(Boolean);
              if (diffs.length) drift.push(`${o.dn}: ${diffs.join(', ')}`);
            }
          }
          const found = await provisioningJob(graph, ctx.domain);
          const ref = found ? { servicePrincipalId: found.servicePrincipalId, jobId: found.job.id } : null;
          const logs = found
            ? await graph.provisioningLogs(found.job.id, { maxEntries: 500, since: new Date(graph.clock.now().getTime() - 7 * 86_400_000) })
            : [];
          const failures = logs.filter((l) => /failure/i.test(l.status ?? ''));
          const health = ref ? await graph.agentHealth(ref) : null;
          const groups = found?.job.status.synchronizedEntryCountByType?.['group to Group'];
          const evidence = {
            'User attributes': drift.length
              ? `${drift.length} of ${compared} differ: ${drift.slice(0, 5).join('; ')}`
              : `${compared} users: displayName, mail and UPN match on-premises`,
            'Group memberships': groups !== undefined ? `${groups} groups synchronized by Cloud Sync` : 'groups are not in a migrated OU yet',
            'Password hash sync':
              'checked before Connect is disabled ("Move password hash sync and writeback to Cloud Sync"); a migrated user signs in with cloud authentication',
            'Writeback scenarios': 'checked before Connect is disabled; group writeback v2 has its own runbook',
            'Provisioning logs': failures.length
              ? `${failures.length} failures in the last 7 days, e.g. ${failures[0].errorCode}: ${failures[0].errorReason}`
              : `no failures in the last 7 days (${logs.length} entries); job ${found?.job.status.code ?? 'not configured'}`,
            'Agent health': health ? `${health.verdict}: ${health.reasons.join(' ')} (inferred from ${health.source})` : 'no job yet',
          };
          const problems = [
            drift.length && 'user attributes differ',
            failures.length && 'provisioning logs have failures',
            found?.job.status.code === 'Quarantine' && 'the job is in quarantine',
            health?.verdict === 'unhealthy' && 'the agents look unhealthy',
          ].filter(Boolean);
          return problems.length ? { ok: false, evidence, error: `Validation found: ${problems.join('; ')}.` } : { ok: true, evidence };
        }
        case 'configure-sync-features': {
          const used = featuresInUse(facts);
          const { ref, jobs } = await mustJob(ctx);
          const evidence: Record<string, unknown> = {};
          const problems: string[] = [];
          // Password hash sync: the mapping and job were configured with the scope; here it must run and have succeeded.
          if (used.passwordHashSync) {
            const phs = jobs.find((j) => jobIsOfTemplate(j, TEMPLATE.passwordHash));
            if (!phs) problems.push('the configuration has no AD2AADPasswordHash job');
            else {
              const phsRef = { servicePrincipalId: ref.servicePrincipalId, jobId: phs.id };
              if (phs.schedule.state !== 'Active') await graph.startJob(phsRef);
              const deadline = Date.now() + waitMs;
              let job = await graph.getJob(phsRef);
              while (!job.status.lastSuccessfulExecution && Date.now() + pollMs <= deadline) {
                await delay(pollMs);
                job = await graph.getJob(phsRef);
              }
              const last = job.status.lastSuccessfulExecution?.timeEnded ?? null;
              evidence['Password hash sync'] = last
                ? `used by the tenant: AD2AADPasswordHash job ${job.schedule.state}, last successful run ${last.toISOString()}`
                : `used by the tenant: AD2AADPasswordHash job ${job.schedule.state}, no successful run yet`;
              if (!last) problems.push('the password hash job has not completed a successful run');
            }
          } else evidence['Password hash sync'] = 'not used by the tenant: not turned on';
          evidence['Password writeback'] = used.passwordWriteback
            ? "used by the tenant: enable it for Cloud Sync in the Entra admin center (or Set-AADCloudSyncPasswordWritebackConfiguration); Graph offers no call to enable or read it with application permissions, so the next step is a person's confirmation"
            : 'not used by the tenant: not turned on';
          if (used.exchangeHybrid) {
            const possible = await graph.exchangeHybridWritebackPossible(ref);
            if (possible.possible === false) problems.push(possible.reason);
            else {
              const cfg = await graph.ensureCloudSyncConfiguration(configInput(ctx, facts, { exchangeHybridWriteback: true }));
              if (cfg.exchangeHybridWritebackJobId) {
                const exRef = { servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.exchangeHybridWritebackJobId };
                await graph.startJob(exRef);
                const job = await graph.getJob(exRef);
                evidence['Exchange hybrid writeback'] = `used by the tenant: ${TEMPLATE.exchange} job ${job.schedule.state} (${possible.reason})`;
              } else problems.push('the Exchange hybrid writeback job could not be created');
            }
          } else evidence['Exchange hybrid writeback'] = 'not used by the tenant: not turned on';
          return problems.length ? { ok: false, evidence, error: `${problems.join('; ')}.` } : { ok: true, evidence };
        }
        case 'pause-cloud-sync-job': {
          const found = await provisioningJob(graph, ctx.domain);
          if (!found) return { ok: true, evidence: { note: `No Cloud Sync configuration exists for ${ctx.domain}: nothing to pause.` } };
          const paused: string[] = [];
          for (const j of found.jobs.filter((x) => x.schedule.state === 'Active')) {
            await graph.pauseJob({ servicePrincipalId: found.servicePrincipalId, jobId: j.id });
            paused.push(j.id);
          }
          const after = await graph.listJobs(found.servicePrincipalId);
          return {
            ok: true,
            evidence: {
              paused,
              jobs: after.map((j) => `${j.id}: ${j.schedule.state} (${j.status.code})`),
              scopeKept: 'The OUs stay in the configuration: taking one out would delete its objects.',
            },
          };
        }
        case 'check-accidental-delete-prevention':
          return { ok: true, evidence: {} };
        case 'restart-quarantined-job': {
          const { ref, resetScope, reason } = await restartTarget(ctx);
          const before = await graph.getJob(ref);
          const quarantine = before.status.quarantine?.reason ?? null;
          if (!quarantine && before.status.code !== 'Quarantine') {
            // What was approved is a restart of a quarantined job: one that left quarantine meanwhile is not restarted.
            return {
              ok: true,
              evidence: {
                jobId: ref.jobId,
                resetScope,
                restarted: false,
                note: `The job was no longer in quarantine (${reason} was) when the approved restart came to run: nothing was sent.`,
                jobStatus: before.status.code,
              },
            };
          }
          const restartedAt = graph.clock.now().toISOString();
          await graph.restartJob(ref, resetScope);
          const after = await graph.getJob(ref);
          return {
            ok: true,
            evidence: {
              jobId: ref.jobId,
              resetScope,
              restarted: true,
              restartedAt,
              quarantineBefore: quarantine ?? reason,
              jobStatus: after.status.code,
              quarantineAfter: after.status.quarantine?.reason ?? null,
            },
          };
        }
        case 'verify-group-provisioning': {
          // Provisioning groups to AD is configured in the admin center ("Microsoft Entra ID to AD sync"): its job must exist, run and not be quarantined.
          const sp = await graph.findServicePrincipal(ctx.domain);
          const jobs = sp ? await graph.listJobs(sp.id) : [];
          const job = jobs.find((j) => jobIsOfTemplate(j, TEMPLATE.groupProvisioning));
          if (!job)
            return {
              ok: false,
              evidence: { jobs: jobs.map((j) => j.id) },
              error: `No Cloud Sync group provisioning to AD (${TEMPLATE.groupProvisioning}) is configured for ${ctx.domain} yet: configure it in the Entra admin center, then say Done again.`,
            };
          const evidence = { jobId: job.id, state: job.schedule.state, status: job.status.code, quarantine: job.status.quarantine?.reason ?? null };
          if (job.status.quarantine)
            return {
              ok: false,
              evidence,
              error: `Cloud Sync's group provisioning job is quarantined (${job.status.quarantine.reason}): fix it before going on.`,
            };
          if (job.schedule.state !== 'Active')
            return { ok: false, evidence, error: `Cloud Sync's group provisioning job is ${job.schedule.state}, not running: enable the configuration.` };
          return { ok: true, evidence };
        }
        case 'verify-sync-resumed': {
          // The step's own evidence says when the person went ahead; Entra must have seen a directory sync since then.
          const since = Date.parse(String(facts.$step?.goAt ?? ''));
          const org = await graph.organizationSync();
          const last = org.onPremisesLastSyncDateTime ? Date.parse(org.onPremisesLastSyncDateTime) : NaN;
          const evidence = {
            onPremisesSyncEnabled: org.onPremisesSyncEnabled,
            onPremisesLastSyncDateTime: org.onPremisesLastSyncDateTime,
            upgradeStartedAt: Number.isNaN(since) ? null : new Date(since).toISOString(),
          };
          if (!org.onPremisesSyncEnabled)
            return { ok: false, evidence, error: 'Directory synchronization is not enabled for the tenant (onPremisesSyncEnabled is not true).' };
          if (Number.isNaN(last) || (!Number.isNaN(since) && last <= since))
            return {
              ok: false,
              evidence,
              error: `Entra ID has seen no directory sync since the upgrade began (last sync: ${org.onPremisesLastSyncDateTime ?? 'never'}): sync has not resumed. Check the new Entra Connect server (Synchronization Service Manager → Operations), then say Done again.`,
            };
          return { ok: true, evidence };
        }
      }
    },
  };
}
