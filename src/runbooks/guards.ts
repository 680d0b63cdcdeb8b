import { isUnder, normalizeDn } from '../dn.js';
import { ouInConnectScope, type ConnectScope } from './connect-scope.js';
import { isStepDone, type Migration, type SchedulerHold, type StepRow } from './engine-types.js';
import type { EngineContext } from './engine-context.js';
import { runnerReads } from './runner-reads.js';
import type { MigrationContext, PlannedStep, StepEstablishes } from './types.js';
import { establishedBy } from './catalog.js';

/** A step's guards (its preconditions), in its definition's order: the first refusal, or null when all hold. */
export async function checkGuards(cx: EngineContext, m: Migration, planned: PlannedStep): Promise<string | null> {
  const ctx = cx.stepContext(m, planned);
  for (const g of planned.def.guards ?? []) {
    try {
      if (g === 'ou-in-connect-scope' && ctx.ou) {
        const scope = (await cx.read(m, runnerReads.connectorScope())) as ConnectScope;
        const v = ouInConnectScope(scope, ctx.ou);
        if (!v.inScope)
          return `${ctx.ou} is not wholly in Connect Sync's scope: ${v.detail}. Keep the OU in Connect Sync scope during migration (seed 001): put it back in the Connect wizard first.`;
      }
      if (g === 'ou-not-rolled-back') {
        const back = m.rolledBackOus.find((o) => ctx.ou && normalizeDn(o) === normalizeDn(ctx.ou));
        if (back) return `${back} was rolled back to Connect Sync: no batch takes it to Cloud Sync again in this migration.`;
        if (m.cloudHeldOus.length) return `${cloudHeldReason(m)} No later batch runs on it.`;
      }
      if (g === 'scheduler-not-held-elsewhere') {
        const holder = await schedulerHolder(cx, m);
        if (holder)
          return `"${holder.name}" stopped the Connect Sync scheduler of this server at ${holder.since.toISOString()} and is making its no-flow rules: starting the scheduler now would let a sync cycle run on half-made rules (two migrations must not interleave one server's scheduler). Wait until its rules step is done.`;
      }
      if (g === 'connect-scope-migrated') {
        const left = await connectScopeRemainder(cx, m, ctx);
        if (left) return left;
      }
      if (g === 'previous-batch-clear' && (ctx.batch ?? 1) > 1) {
        const open = (await cx.ports.openCriticalAlerts?.(m.id)) ?? [];
        if (open.length)
          return `Batch ${ctx.batch} cannot start while the migration has open critical alerts: ${open.map((a) => a.title).join('; ')}. Resolve them first.`;
        const prev = (await cx.store.steps(m.id)).filter((s) => s.batch !== null && s.batch < ctx.batch! && !isStepDone(s));
        if (prev.length) return `Batch ${ctx.batch} cannot start before batch ${prev[0].batch} is done.`;
      }
      if (g === 'soak-elapsed') {
        const disabled = (await cx.store.steps(m.id)).find((s) => s.state === 'succeeded' && establishes(m, s).connectDisabled);
        if (!disabled) return 'Connect Sync has not been disabled yet: the soak starts when it is.';
        const ends = new Date(disabled.updatedAt.getTime() + m.soakDays * 86_400_000);
        if (cx.clock.now() < ends)
          return `The soak lasts ${m.soakDays} days after Connect Sync was disabled (${disabled.updatedAt.toISOString()}): it ends ${ends.toISOString()}. Keep the server disabled, not uninstalled, until then.`;
      }
      if (g === 'no-sync-cycle-running') {
        const s = await cx.read(m, runnerReads.scheduler());
        if (s.SyncCycleInProgress) return 'A Connect Sync cycle is running now; wait for it to end and ask again.';
      }
    } catch (err: any) {
      return `The check "${g}" could not be made: ${err?.message ?? err}. Nothing was changed.`;
    }
  }
  return null;
}

/** What a stored step's success establishes, by its definition (nothing for a key no runbook knows any more). */
function establishes(m: Migration, s: StepRow): StepEstablishes {
  return establishedBy(m.kind, s.key);
}

/**
 * The step of this migration that holds the Connect Sync scheduler off now, if one does: the last succeeded step that
 * set the scheduler (its definition declares how it left it) said enabled=false. Connect keeps no "disabled since"
 * anywhere (Get-ADSyncScheduler has no such field), so cutover's records are the only source.
 */
export function holdOf(cx: EngineContext, m: Migration, steps: StepRow[]): SchedulerHold | null {
  let hold: SchedulerHold | null = null;
  const rows = steps.filter((s) => s.state === 'succeeded' && s.plan && establishes(m, s).scheduler);
  rows.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
  for (const s of rows) {
    const left = establishes(m, s).scheduler!;
    hold = left.enabled === false ? { since: s.updatedAt, stepTitle: cx.plannedStep(m, s).def.title, serviceStopped: left.serviceStopped === true } : null;
  }
  return hold;
}

export async function schedulerHold(cx: EngineContext, migrationId: string): Promise<SchedulerHold | null> {
  const m = await cx.store.migration(migrationId);
  return m ? holdOf(cx, m, await cx.store.steps(migrationId)) : null;
}

/** Any active migration of the tenant holding the scheduler off. */
export async function schedulerHeldInTenant(cx: EngineContext, tenantId: string): Promise<SchedulerHold | null> {
  for (const m of await cx.store.listMigrations(null, 'active')) {
    if (m.tenantId !== tenantId) continue;
    const h = await schedulerHold(cx, m.id);
    if (h) return h;
  }
  return null;
}

/**
 * Another active migration on the same Connect server (tenant and runner) in the middle of its rule change: it has
 * stopped the scheduler and its no-flow rules have not yet been made (or removed) and fully synchronized. Starting
 * the scheduler now would let a cycle run on half-made rules.
 */
async function schedulerHolder(cx: EngineContext, m: Migration): Promise<{ name: string; since: Date } | null> {
  for (const other of await cx.store.listMigrations(null, 'active')) {
    if (other.id === m.id || other.tenantId !== m.tenantId) continue;
    if (m.runnerName && other.runnerName && m.runnerName.toLowerCase() !== other.runnerName.toLowerCase()) continue; // another server
    const steps = await cx.store.steps(other.id);
    const hold = holdOf(cx, other, steps);
    if (!hold) continue;
    const rulesDone = steps.some((s) => s.state === 'succeeded' && s.updatedAt >= hold.since && !!s.plan?.runner && establishes(other, s).ruleChange);
    if (!rulesDone) return { name: other.name, since: hold.since };
  }
  return null;
}

/**
 * Objects still served only by Connect Sync: everything in its scope (selected partitions, inclusions less
 * exclusions) outside the migration's batch OUs. Null when nothing is left; otherwise the refusal, per OU and type.
 */
async function connectScopeRemainder(cx: EngineContext, m: Migration, ctx: MigrationContext): Promise<string | null> {
  if (m.partial) return null;
  const scope = (await cx.read(m, runnerReads.connectorScope())) as ConnectScope;
  if (scope.groupFilteringGroupDn) {
    return `Connect Sync uses group-based filtering (${scope.groupFilteringGroupDn}), so cutover cannot tell which objects it still serves. Check by hand, or declare the migration partial; Connect Sync stays enabled.`;
  }
  const batchOus = ctx.batchOus;
  const rows: Array<{ dn: string; users: number; groups: number; contacts: number }> = [];
  for (const p of scope.partitions ?? [
    { name: '', selected: true, includedContainers: scope.includedContainers ?? [], excludedContainers: scope.excludedContainers ?? [] },
  ]) {
    if (!p.selected) continue;
    for (const inc of p.includedContainers) {
      const r = await cx.read(
        m,
        runnerReads.countByOu(
          inc,
          [...p.excludedContainers, ...batchOus].filter((c) => isUnder(c, inc)),
        ),
      );
      for (const c of r.containers ?? [])
        rows.push({ dn: c.dn, users: (c.users ?? 0) + (c.inetOrgPersons ?? 0), groups: c.groups ?? 0, contacts: c.contacts ?? 0 });
    }
  }
  const left = rows.filter((r) => r.users + r.groups + r.contacts > 0);
  if (!left.length) return null;
  const total = (k: 'users' | 'groups' | 'contacts') => left.reduce((n, r) => n + r[k], 0);
  left.sort((a, b) => b.users + b.groups + b.contacts - (a.users + a.groups + a.contacts));
  const per = left
    .slice(0, 10)
    .map((r) => `${r.dn}: ${r.users} users, ${r.groups} groups, ${r.contacts} contacts`)
    .join('; ');
  return (
    `Connect Sync still serves ${total('users')} users, ${total('groups')} groups and ${total('contacts')} contacts that no batch has moved to Cloud Sync: ${per}${left.length > 10 ? `; and ${left.length - 10} more containers` : ''}. ` +
    'Disabling Connect Sync now would strand them (seed 002: "When all users are managed by Cloud Sync…"). Add batches for them, or declare the migration partial (coexistence) and keep Connect Sync running.'
  );
}

/** Why a configuration holding rolled-back OUs (paused) must not run again: said by the guard and by `batch add`. */
export function cloudHeldReason(m: Migration): string {
  const many = m.cloudHeldOus.length > 1;
  return (
    `Cloud Sync's configuration for ${m.domain} still holds the rolled-back ${m.cloudHeldOus.join('; ')} (paused). ` +
    `Starting it again would take ${many ? 'them' : 'it'} back from Connect Sync, and taking ${many ? 'them' : 'it'} out of its scope deletes ${many ? 'their' : 'its'} objects from Entra ID (Microsoft documents no way that does not).`
  );
}
