import { createHash } from 'node:crypto';
import type { PendingExports } from '../../actions/index.js';
import type { GoLiveFigures, RunnerSequence } from '../types.js';

/** The objects a card lists with the figures (all of them are in the digest the approval binds to). */
const LISTED = 200;

/**
 * What a server will export once it goes live, connector by connector: csexport's pending exports (adds, updates,
 * deletes, by object). Microsoft's staging-mode guidance is to review exactly this before a server becomes active
 * (how-to-connect-sync-staging-server.md, "Verify the configuration of a server"). With `blockWrittenBackDeletes`, pending
 * deletes of groups Connect wrote back are a blocker: the owners must decide on them explicitly.
 */
export function pendingExportFigures(results: PendingExports[], opts: { blockWrittenBackDeletes?: boolean } = {}): GoLiveFigures {
  const counts: Record<string, number> = {};
  const objects: GoLiveFigures['objects'] = [];
  const lines: string[] = [];
  const hash = createHash('sha256');
  let total = 0;
  let writtenBackDeletes = 0;
  for (const r of results) {
    const side = r.connectorType === 'ad' ? 'AD' : 'Entra';
    lines.push(
      `${side} connector (${r.connector}): ${r.counts.add} adds, ${r.counts.update} updates, ${r.counts.delete} deletes` +
        (r.writtenBackGroupDeletes ? `, of which ${r.writtenBackGroupDeletes} delete${r.writtenBackGroupDeletes === 1 ? '' : 's'} of written-back groups` : ''),
    );
    for (const op of ['add', 'update', 'delete'] as const) counts[`${r.connectorType}.${op}`] = r.counts[op];
    total += r.total;
    writtenBackDeletes += r.writtenBackGroupDeletes;
    for (const o of r.objects) {
      hash.update(`${r.connectorType}\u0000${o.operation}\u0000${o.objectType}\u0000${o.dn}\n`);
      if (objects.length < LISTED) objects.push({ connector: side, operation: o.operation, objectType: o.objectType, dn: o.dn });
    }
    // A truncated read cannot be bound object by object: its counts stand for the rest.
    if (r.truncated) hash.update(`${r.connectorType}\u0000truncated\u0000${r.total}\n`);
  }
  counts.writtenBackGroupDeletes = writtenBackDeletes;
  const blocker =
    opts.blockWrittenBackDeletes && writtenBackDeletes > 0
      ? `${writtenBackDeletes} group${writtenBackDeletes === 1 ? '' : 's'} that Connect wrote back to AD would be deleted from AD when this server goes live (pending deletes on the AD connector). Written-back groups are hard to recover: the usual cause is a missing or wrong group rule pair.`
      : undefined;
  return { lines, counts, objects, total, digest: hash.digest('hex'), ...(blocker ? { blocker } : {}) };
}

/** Reads for pendingExportFigures: both connectors, the objects up to what a card can show. */
export const PENDING_EXPORT_READS: RunnerSequence = [
  { action: 'get-pending-exports', params: () => ({ connector: 'entra', limit: 1000 }) },
  { action: 'get-pending-exports', params: () => ({ connector: 'ad', limit: 1000 }) },
];

/** A sync cycle's report that does not prove success (a stopped export, export errors): why, or null. */
export function cycleProblem(
  cycle: { result?: string; runs?: { RunProfileName: string; ConnectorName: string; Result: string }[] } | undefined,
): string | null {
  if (!cycle) return 'The sync cycle returned no report.';
  const failed = (cycle.runs ?? []).filter((r) => r.Result !== 'success');
  if (cycle.result === 'Success' && !failed.length) return null;
  return `The sync cycle ended ${cycle.result ?? 'without a result'}${failed.length ? `: ${failed.map((r) => `${r.RunProfileName} on ${r.ConnectorName}: ${r.Result}`).join('; ')}` : ''}. Find the cause in Synchronization Service Manager (Operations) before going on.`;
}
