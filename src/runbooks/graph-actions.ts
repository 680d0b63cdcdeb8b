import { includedContainersOf, type Graph, type SyncedObjectIndex, type SyncJob } from '../graph/index.js';
import { normalizeDn } from '../dn.js';
import { sourceAnchorOf } from '../identity.js';
import type { EnginePorts, PlannedGraphRequest } from './engine.js';
import type { GraphOperation, MigrationContext } from './types.js';
import { assessForest } from './assessment.js';

/** Per-tenant Graph access: the composition root decides credentials (sandbox, secret, managed identity). */
export interface TenantGraphs {
  graph(tenantId: string): Graph;
  /** The delta-maintained index of synced users, one per tenant. */
  index(tenantId: string): SyncedObjectIndex;
}

/** A read through the on-premises runner (awaited). */
export type RunnerRead = (tenantId: string, action: string, params: Record<string, unknown>) => Promise<any>;

const AGENTS_PATH = '/beta/onPremisesPublishingProfiles/provisioning/agents?$expand=agentGroups';

/** The OUs Cloud Sync should have in scope once this batch is configured: every batch so far. */
function scopeThrough(ctx: MigrationContext): string[] {
  return ctx.allOus.slice(0, ctx.batch ?? ctx.allOus.length);
}

export async function provisioningJob(g: Graph, domain: string): Promise<{ servicePrincipalId: string; job: SyncJob } | null> {
  const sp = await g.findServicePrincipal(domain);
  if (!sp) return null;
  const jobs = await g.listJobs(sp.id);
  const job = jobs.find((j) => j.templateId === 'AD2AADProvisioning' || j.id.startsWith('AD2AADProvisioning.'));
  return job ? { servicePrincipalId: sp.id, job } : null;
}

/** A job needs an explicit start unless its schedule already runs it (don't call start repeatedly: Graph docs). */
function needsStart(job: SyncJob | undefined): boolean {
  return !job || job.schedule.state !== 'Active' || job.status.code === 'Paused' || job.status.code === 'Quarantine';
}

const strip = (reqs: { method: string; path: string; body?: unknown }[]): PlannedGraphRequest[] => reqs.map(({ method, path, body }) => ({ method, path, body }));

/**
 * The Graph (and Graph + runner read) operations the runbooks name. Each mutating operation has a describe
 * twin returning exactly the requests it will send: approvers approve those.
 */
export function graphActions(tenants: TenantGraphs, runnerRead: RunnerRead): EnginePorts['graph'] {
  const g = (ctx: MigrationContext) => tenants.graph(ctx.tenantId);

  async function mustJob(ctx: MigrationContext) {
    const found = await provisioningJob(g(ctx), ctx.domain);
    if (!found) throw new Error(`No Cloud Sync provisioning job exists for ${ctx.domain}: run "Configure Cloud Sync" first.`);
    return { ...found, ref: { servicePrincipalId: found.servicePrincipalId, jobId: found.job.id } };
  }

  async function sampleUser(ctx: MigrationContext): Promise<string> {
    const r = await runnerRead(ctx.tenantId, 'ad-export-identities', { ou: ctx.ou, classes: ['user'] });
    const first = (r.objects ?? []).map((o: any) => o.dn).sort()[0];
    if (!first) throw new Error(`${ctx.ou} has no user to provision on demand.`);
    return first;
  }

  async function countPair(ctx: MigrationContext, ou: string) {
    const index = tenants.index(ctx.tenantId);
    await index.refresh();
    const onPrem = (await runnerRead(ctx.tenantId, 'ad-count', { ou })).users as number;
    return { ou, onPremises: onPrem, entra: index.countUnder(ou) };
  }

  return {
    async describe(op: GraphOperation, ctx: MigrationContext): Promise<PlannedGraphRequest[]> {
      switch (op) {
        case 'assess':
          return [{ method: 'GET', path: AGENTS_PATH }, { method: 'GET', path: '/v1.0/directory/onPremisesSynchronization' }];
        case 'verify-agents':
          return [{ method: 'GET', path: AGENTS_PATH }];
        case 'verify-ou-counts':
        case 'verify-all-ous':
        case 'verify-connect-owns-ou':
          return [{ method: 'GET', path: '/v1.0/users/delta?$select=id,onPremisesDistinguishedName,… (synced users; OUs matched by DN, exactly)' }];
        case 'post-migration-validation':
          return [
            { method: 'GET', path: '/v1.0/users/delta?$select=id,userPrincipalName,mail,displayName,proxyAddresses,onPremisesImmutableId,…' },
            { method: 'GET', path: "/v1.0/auditLogs/provisioning?$filter=jobId eq '{provisioningJobId}'" },
            { method: 'GET', path: AGENTS_PATH },
          ];
        case 'check-accidental-delete-prevention':
          return [{ method: 'GET', path: '/v1.0/directory/onPremisesSynchronization' }];
        case 'configure-cloud-sync':
          return strip(await g(ctx).describeCloudSyncConfiguration({ domain: ctx.domain, passwordHashSync: true, containers: scopeThrough(ctx) }));
        case 'provision-on-demand': {
          const found = await provisioningJob(g(ctx), ctx.domain);
          const dn = await sampleUser(ctx);
          if (!found) return [{ method: 'POST', path: '/beta/servicePrincipals/{servicePrincipalId}/synchronization/jobs/{provisioningJobId}/provisionOnDemand', body: { parameters: [{ ruleId: '{rule id from the schema}', subjects: [{ objectId: dn, objectTypeName: 'user' }] }] } }];
          const ref = { servicePrincipalId: found.servicePrincipalId, jobId: found.job.id };
          return strip(g(ctx).describeProvisionOnDemand(ref, await g(ctx).provisioningRuleId(ref), dn));
        }
        case 'start-cloud-sync-job': {
          const found = await provisioningJob(g(ctx), ctx.domain);
          if (found && !needsStart(found.job)) return [];
          return found ? strip(g(ctx).describeStartJob({ servicePrincipalId: found.servicePrincipalId, jobId: found.job.id })) : [{ method: 'POST', path: '/beta/servicePrincipals/{servicePrincipalId}/synchronization/jobs/{provisioningJobId}/start' }];
        }
        case 'pause-cloud-sync-job': {
          const found = await provisioningJob(g(ctx), ctx.domain);
          return found ? strip(g(ctx).describePauseJob({ servicePrincipalId: found.servicePrincipalId, jobId: found.job.id })) : [];
        }
        case 'rollback-cloud-scope': {
          const found = await provisioningJob(g(ctx), ctx.domain);
          if (!found) return [];
          const ref = { servicePrincipalId: found.servicePrincipalId, jobId: found.job.id };
          const scope = includedContainersOf(await g(ctx).getSchema(ref));
          const others = scope.filter((c) => normalizeDn(c) !== normalizeDn(ctx.ou!));
          if (others.length === scope.length || !others.length) return [];
          return strip([...(await g(ctx).describeRemoveContainerFromScope({ ...ref, container: ctx.ou! })), ...g(ctx).describeStartJob(ref)]);
        }
      }
    },

    async run(op: GraphOperation, ctx: MigrationContext, facts: { onPremCount?: number }) {
      const graph = g(ctx);
      switch (op) {
        case 'assess': {
          const [summary, rules, features, threshold, agents, tenantSync] = await Promise.all([
            runnerRead(ctx.tenantId, 'ad-domain-summary', {}),
            runnerRead(ctx.tenantId, 'get-sync-rules', { customOnly: true }),
            runnerRead(ctx.tenantId, 'get-company-features', {}),
            runnerRead(ctx.tenantId, 'get-export-deletion-threshold', {}),
            graph.listAgents(),
            graph.onPremisesSynchronization().catch(() => null),
          ]);
          return { ok: true, evidence: assessForest({ summary, customRules: rules.rules ?? [], features, threshold, agents, tenantSync, ous: ctx.allOus }) };
        }
        case 'verify-agents': {
          const agents = await graph.listAgents();
          const active = agents.filter((a) => a.isActive);
          const evidence = {
            agents: agents.map((a) => `${a.machineName}: ${a.status}`),
            active: active.length,
            advice: active.length < 2 ? 'Install a second agent: Microsoft advises two or more for availability.' : null,
          };
          return active.length ? { ok: true, evidence } : { ok: false, evidence, error: 'No active Cloud Sync provisioning agent. Install the agent on a domain-joined server (seed 000: "Install the provisioning agent"), then Retry.' };
        }
        case 'configure-cloud-sync': {
          const cfg = await graph.ensureCloudSyncConfiguration({ domain: ctx.domain, passwordHashSync: true, containers: scopeThrough(ctx) });
          const job = await graph.getJob({ servicePrincipalId: cfg.servicePrincipalId, jobId: cfg.provisioningJobId });
          return {
            ok: true,
            evidence: {
              servicePrincipalId: cfg.servicePrincipalId,
              provisioningJobId: cfg.provisioningJobId,
              passwordHashJobId: cfg.passwordHashJobId ?? null,
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
          const dn = await sampleUser(ctx);
          const r = await graph.provisionOnDemand(ref, await graph.provisioningRuleId(ref), dn);
          const evidence = { user: dn, result: r.result, action: r.action, steps: r.steps.map((s) => `${s.type} ${s.name}: ${s.status}`), targetId: r.targetId };
          // RedundantExport: matched to its Entra user, which already holds the same values — nothing to export.
          const inStep = /^skipped$/i.test(r.result) && (r.details as any)?.errorCode === 'RedundantExport';
          return /^success$/i.test(r.result) || inStep
            ? { ok: true, evidence: { ...evidence, note: inStep ? 'matched its existing Entra user; no attribute needed changing (RedundantExport)' : null } }
            : { ok: false, evidence, error: `Provisioning ${dn} on demand ended ${r.result}: ${JSON.stringify(r.details).slice(0, 300)}` };
        }
        case 'start-cloud-sync-job': {
          const { ref, job } = await mustJob(ctx);
          const started = needsStart(job);
          if (started) await graph.startJob(ref);
          const after = await graph.getJob(ref);
          return { ok: true, evidence: { provisioningJobId: ref.jobId, jobStarted: started, note: started ? null : 'already running for earlier batches: not started again', jobStatus: after.status.code, schedule: after.schedule.state } };
        }
        case 'pause-cloud-sync-job': {
          const { ref } = await mustJob(ctx);
          await graph.pauseJob(ref);
          const after = await graph.getJob(ref);
          return { ok: true, evidence: { provisioningJobId: ref.jobId, schedule: after.schedule.state, jobStatus: after.status.code } };
        }
        case 'rollback-cloud-scope': {
          const { ref } = await mustJob(ctx);
          const scope = includedContainersOf(await graph.getSchema(ref));
          const inScope = scope.some((c) => normalizeDn(c) === normalizeDn(ctx.ou!));
          const others = scope.filter((c) => normalizeDn(c) !== normalizeDn(ctx.ou!));
          if (!inScope) return { ok: true, evidence: { scope, note: `${ctx.ou} was not in Cloud Sync's scope` } };
          if (!others.length) {
            // An empty includedContainers means the whole domain: the last OU stays, and the job stays paused.
            return { ok: true, evidence: { scope, jobLeftPaused: true, note: `${ctx.ou} is Cloud Sync's only OU: the job stays paused instead (an empty scope would mean the whole domain).` } };
          }
          await graph.removeContainerFromScope({ ...ref, container: ctx.ou! });
          await graph.startJob(ref);
          const after = await graph.getJob(ref);
          return { ok: true, evidence: { scopeBefore: scope, scopeAfter: includedContainersOf(await graph.getSchema(ref)), jobStatus: after.status.code, schedule: after.schedule.state } };
        }
        case 'verify-ou-counts': {
          const index = tenants.index(ctx.tenantId);
          await index.refresh();
          const entra = index.countUnder(ctx.ou!);
          const found = await provisioningJob(graph, ctx.domain);
          const onPrem = facts.onPremCount;
          const evidence = { ou: ctx.ou, onPremises: onPrem ?? null, entra, jobStatus: found?.job.status.code ?? 'not configured', steadyState: found?.job.status.steadyStateFirstAchievedTime ? 'reached' : 'not yet' };
          if (onPrem === undefined) return { ok: false, evidence, error: 'The on-premises count could not be read.' };
          if (onPrem !== entra) return { ok: false, evidence, error: `Entra has ${entra} synced users in the OU, Active Directory has ${onPrem}. If Cloud Sync's first cycle is still running, Retry in a few minutes; otherwise check the provisioning logs.` };
          return { ok: true, evidence };
        }
        case 'verify-all-ous': {
          const rows = [];
          for (const ou of ctx.allOus) rows.push(await countPair(ctx, ou));
          const found = await provisioningJob(graph, ctx.domain);
          const bad = rows.filter((r) => r.onPremises !== r.entra);
          const evidence = { ous: rows.map((r) => `${r.ou}: on-premises ${r.onPremises} · Entra ${r.entra}`), jobStatus: found?.job.status.code ?? 'not configured' };
          if (found?.job.status.code === 'Quarantine') return { ok: false, evidence, error: 'The Cloud Sync job is in quarantine.' };
          return bad.length ? { ok: false, evidence, error: `Counts differ for ${bad.map((r) => r.ou).join('; ')}.` } : { ok: true, evidence };
        }
        case 'verify-connect-owns-ou': {
          const pair = await countPair(ctx, ctx.ou!);
          const found = await provisioningJob(graph, ctx.domain);
          const scope = found ? includedContainersOf(await graph.getSchema({ servicePrincipalId: found.servicePrincipalId, jobId: found.job.id })) : [];
          const stillScoped = scope.some((c) => normalizeDn(c) === normalizeDn(ctx.ou!));
          const onlyOu = stillScoped && scope.length === 1 && found?.job.schedule.state !== 'Active';
          const evidence = { ...pair, cloudSyncScope: scope, cloudSyncJob: found ? `${found.job.status.code} (${found.job.schedule.state})` : 'none' };
          if (pair.onPremises !== pair.entra) return { ok: false, evidence, error: `Entra has ${pair.entra} users in the OU, Active Directory ${pair.onPremises}: check Connect Sync's last cycle.` };
          if (stillScoped && !onlyOu) return { ok: false, evidence, error: `${ctx.ou} is still in Cloud Sync's scope.` };
          return { ok: true, evidence };
        }
        case 'post-migration-validation': {
          const index = tenants.index(ctx.tenantId);
          await index.refresh();
          let compared = 0;
          const drift: string[] = [];
          for (const ou of ctx.allOus) {
            const onPrem = (await runnerRead(ctx.tenantId, 'ad-export-identities', { ou, classes: ['user'] })).objects as any[];
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
                [...u.proxyAddresses].map((x) => x.toLowerCase()).sort().join('|') !== [...o.proxyAddresses].map((x: string) => x.toLowerCase()).sort().join('|') && 'proxyAddresses',
              ].filter(Boolean);
              if (diffs.length) drift.push(`${o.dn}: ${diffs.join(', ')}`);
            }
          }
          const found = await provisioningJob(graph, ctx.domain);
          const logs = found ? await graph.provisioningLogs(found.job.id, { maxEntries: 50 }) : [];
          const failures = logs.filter((l) => /failure/i.test(l.status ?? ''));
          const agents = await graph.listAgents();
          const groups = found?.job.status.synchronizedEntryCountByType?.['group to Group'];
          const evidence = {
            'User attributes': drift.length ? `${drift.length} of ${compared} differ: ${drift.slice(0, 5).join('; ')}` : `${compared} users: displayName, mail, UPN and proxyAddresses match on-premises`,
            'Group memberships': groups !== undefined ? `${groups} groups synchronized by Cloud Sync` : 'groups are not in a migrated OU yet',
            'Password hash sync': 'human check: a migrated user signs in with cloud authentication',
            'Writeback scenarios': 'human check: password writeback and group writeback (if configured) work',
            'Provisioning logs': failures.length ? `${failures.length} failures, e.g. ${failures[0].errorCode}: ${failures[0].errorReason}` : `no failures in the latest ${logs.length} entries; job ${found?.job.status.code ?? 'not configured'}`,
            'Agent health': agents.map((a) => `${a.machineName}: ${a.status}`).join('; ') || 'no agent',
          };
          const problems = [drift.length && 'user attributes differ', failures.length && 'provisioning logs have failures', found?.job.status.code === 'Quarantine' && 'the job is in quarantine', !agents.some((a) => a.isActive) && 'no active agent'].filter(Boolean);
          return problems.length ? { ok: false, evidence, error: `Validation found: ${problems.join('; ')}.` } : { ok: true, evidence };
        }
        case 'check-accidental-delete-prevention': {
          const s = await graph.onPremisesSynchronization();
          const adp = s.accidentalDeletionPrevention;
          const on = adp && adp.type !== 'disabled';
          return {
            ok: true,
            evidence: {
              accidentalDeletionPrevention: adp ? `${adp.type}${adp.alertThreshold !== null ? ` (threshold ${adp.alertThreshold})` : ''}` : 'not set',
              action: on
                ? "It is on: it also blocks Cloud Sync's deletes over the threshold now that Connect is disabled. Turn it off with Disable-AADCloudSyncToolsDirSyncAccidentalDeletionPrevention -tenantId <tenant id> (AADCloudSyncTools module) and rely on Cloud Sync's own accidental-delete threshold."
                : 'Nothing to do: it is off.',
            },
          };
        }
      }
    },
  };
}
