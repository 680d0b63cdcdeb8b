import { randomBytes } from 'node:crypto';
import { appendAudit } from './audit.js';
import { planSteps, runbookOf } from './catalog.js';
import { ownerSet, type ApprovalPolicy } from './policy.js';
import { OwnersGroupNotFound, OwnersGroupUnavailable, type OwnersGroup } from './owners.js';
import type { Person } from './types.js';
import { EngineError, type Migration } from './engine-types.js';
import type { EngineContext } from './engine-context.js';

export interface NewMigration {
  name: string;
  kind: string;
  domain: string;
  tenantId: string;
  ous: string[];
  policy: ApprovalPolicy;
  requester: Person;
  conversationId: string | null;
  soakDays?: number;
  partial?: boolean;
  /** The runner (by name) on the Connect server; default the tenant's only runner. */
  runner?: string;
  options?: Record<string, string>;
}

/** A new migration with every step of its runbook pending, bound to its runner, in one transaction with its audit row. */
export async function createMigration(cx: EngineContext, input: NewMigration): Promise<Migration> {
  const rb = runbookOf(input.kind);
  const now = cx.clock.now();
  const id = `${slug(input.name)}-${randomBytes(2).toString('hex')}`;
  const steps = planSteps(rb, rb.ous === 'batches' ? input.ous.length : 0);
  const soakDays = Math.max(7, input.soakDays ?? 7);
  const group = await checkOwnersGroup(cx, { tenantId: input.tenantId, policy: input.policy }, 'was created');
  const runnerName = await chooseRunner(cx, input.tenantId, input.runner);
  await cx.store.transaction(async (tx) => {
    if (await cx.store.nameTaken(tx, input.tenantId, input.conversationId, input.name))
      throw new EngineError('conflict', `A migration named "${input.name}" already exists here.`);
    await cx.store.insertMigration(tx, {
      id,
      name: input.name,
      kind: input.kind,
      tenantId: input.tenantId,
      domain: input.domain,
      policy: input.policy,
      params: {
        ous: input.ous,
        soakDays,
        partial: !!input.partial,
        ...(runnerName ? { runnerName } : {}),
        ...(input.options && Object.keys(input.options).length ? { options: input.options } : {}),
      },
      createdBy: input.requester,
      createdAt: now,
      conversationId: input.conversationId,
    });
    for (const s of steps) await cx.store.insertStep(tx, id, { seq: s.seq, ord: s.ord, key: s.key, batch: s.batch, state: 'pending' }, now);
    await appendAudit(tx, {
      migrationId: id,
      at: now,
      actor: input.requester,
      action: 'migration-created',
      details: {
        name: input.name,
        kind: input.kind,
        domain: input.domain,
        tenantId: input.tenantId,
        ous: input.ous,
        soakDays,
        partial: !!input.partial,
        ...(input.options ? { options: input.options } : {}),
        policy: input.policy,
        steps: steps.length,
        ...(group ? { ownersGroup: { id: group.id, name: group.name, members: group.members.length } } : {}),
      },
    });
  });
  cx.emit({ type: 'migration-created', migrationId: id });
  return (await cx.store.migration(id))!;
}

/**
 * A policy naming an owners group: the group must exist and be readable now, and quorum must be reachable by the
 * listed owners plus its members. Otherwise nothing changes (EngineError with the reason).
 */
async function checkOwnersGroup(cx: EngineContext, m: Pick<Migration, 'tenantId' | 'policy'>, what: string): Promise<OwnersGroup | null> {
  if (!m.policy.ownersGroup) return null;
  let group: OwnersGroup | null;
  try {
    group = await cx.ownersGroup(m);
  } catch (e) {
    if (e instanceof OwnersGroupNotFound) throw new EngineError('invalid', `${e.message} Nothing ${what}.`);
    if (e instanceof OwnersGroupUnavailable) throw new EngineError('invalid', `${e.message} Nothing ${what}; try again when Graph answers.`);
    throw e;
  }
  const everyone = ownerSet(m.policy, group?.members.map((x) => x.id) ?? []);
  if (m.policy.quorum > everyone.size)
    throw new EngineError(
      'invalid',
      `${m.policy.quorum} approvals are required but the listed owners and the group "${group?.name ?? m.policy.ownersGroup}" make ${everyone.size} change owner(s). Nothing ${what}.`,
    );
  return group;
}

/**
 * Which runner a new migration is bound to: the one named, else the tenant's only runner. Several and none named is
 * refused (jobs that change a Connect server must reach that server); none yet binds at the first job.
 */
async function chooseRunner(cx: EngineContext, tenantId: string, name: string | undefined): Promise<string | null> {
  const runners = await cx.ports.runner.runners(tenantId);
  if (name) {
    const hit = runners.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (!hit) throw new EngineError('invalid', `There is no runner "${name}" in this tenant (say "runners"). Nothing was created.`);
    return hit.name;
  }
  if (runners.length > 1)
    throw new EngineError(
      'invalid',
      `This tenant has ${runners.length} runners (${runners.map((r) => r.name).join(', ')}): name the one on this migration's Connect server with runner=<name>. Nothing was created.`,
    );
  return runners[0]?.name ?? null;
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24) || 'migration'
  );
}
