import { createHash, createHmac } from 'node:crypto';
import type { Sql } from '../store/db.js';
import type { AuditAnchor } from './audit-anchor.js';

/**
 * The audit trail: one row per state change, each row's hash chained to the previous row of the same migration and
 * keyed (HMAC-SHA256 under AUDIT_HMAC_KEY), so an edited, deleted or recomputed row is detected by verifyAuditChain;
 * the head of each chain is anchored outside the database after every commit (signed checkpoints, audit-anchor.ts),
 * so deleting the newest rows is detected too.
 */

/** The keys rows may be signed with (by key id), the one new rows are signed with, and where heads are anchored. */
const keyring = new Map<string, Buffer>();
let signing: { id: string; key: Buffer } | null = null;
let anchor: AuditAnchor | null = null;

/** The id a key is known by in the audit table (not secret: a digest of a digest of it). */
export function auditKeyId(key: Buffer): string {
  return sha256(`cutover-audit-key:${createHash('sha256').update(key).digest('hex')}`).slice(0, 16);
}

/**
 * Signs new audit rows with this key (earlier keys stay known, for verification) and anchors chain heads with this
 * anchor. Called once by the composition root; without it rows are unkeyed (tests of the engine alone).
 */
export function configureAudit(opts: { key: Buffer; anchor?: AuditAnchor | null }): void {
  const id = auditKeyId(opts.key);
  keyring.set(id, opts.key);
  signing = { id, key: opts.key };
  if (opts.anchor !== undefined) anchor = opts.anchor;
}

/**
 * The latest signed checkpoint of a migration's audit chain this process knows (row id, hash, when), for the overview
 * card; null when none was written (or no anchor is configured).
 */
export function latestCheckpoint(migrationId: string): { rowId: number; hash: string; at: string } | null {
  const c = anchor?.latest(migrationId);
  return c ? { rowId: c.rowId, hash: c.hash, at: c.at } : null;
}

/** The anchor chain heads go to, or null (for the overview card: latestCheckpoint). */
export function auditAnchor(): AuditAnchor | null {
  return anchor;
}

export interface AuditEntry {
  migrationId: string;
  at: Date;
  actor?: { oid: string; name: string } | null;
  action: string;
  stepSeq?: number | null;
  details: Record<string, unknown>;
}

export const GENESIS = '0'.repeat(64);

/** Stable JSON: keys sorted, so the hash does not depend on insertion order. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

type RowContent = {
  migrationId: string;
  at: string;
  actorOid: string | null;
  actorName: string | null;
  action: string;
  stepSeq: number | null;
  details: unknown;
};

function rowHash(prev: string, e: RowContent, key: Buffer | null = null): string {
  return key
    ? createHmac('sha256', key)
        .update(prev + canonicalJson(e))
        .digest('hex')
    : sha256(prev + canonicalJson(e));
}

/**
 * Appends one row; call inside the transaction that makes the change it records. `known.head`: the hash of the chain's
 * newest row (null: none yet) as the caller read it in this transaction, after taking the migration's row lock, in a
 * statement of its own reads (one statement fewer per transition).
 */
export async function appendAudit(tx: Sql, e: AuditEntry, known?: { head: string | null }): Promise<void> {
  // The migration row lock serialises appends for one migration (callers hold it), so prev is stable.
  const prev =
    (known
      ? known.head
      : (await tx.query<{ hash: string }>('SELECT hash FROM audit WHERE migration_id = $1 ORDER BY id DESC LIMIT 1', [e.migrationId])).rows[0]?.hash) ??
    GENESIS;
  const row = {
    migrationId: e.migrationId,
    at: e.at.toISOString(),
    actorOid: e.actor?.oid ?? null,
    actorName: e.actor?.name ?? null,
    action: e.action,
    stepSeq: e.stepSeq ?? null,
    details: e.details,
  };
  const key = signing;
  const hash = rowHash(prev, row, key?.key ?? null);
  const inserted = await tx.query<{ id: string }>(
    'INSERT INTO audit (migration_id, at, actor_oid, actor_name, action, step_seq, details, prev_hash, hash, key_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id',
    [row.migrationId, row.at, row.actorOid, row.actorName, row.action, row.stepSeq, JSON.stringify(row.details), prev, hash, key?.id ?? null],
  );
  // The new head is anchored once it is committed (a rolled-back row must not be anchored: it would read as a
  // deleted tail). Outside a transaction the insert has committed already.
  const target = anchor;
  if (target) {
    const head = { migrationId: row.migrationId, rowId: Number(inserted.rows[0].id), hash };
    if (tx.afterCommit) tx.afterCommit(() => target.record(head));
    else await target.record(head);
  }
}

export interface AuditRow {
  id: number;
  at: Date;
  actorOid: string | null;
  actorName: string | null;
  action: string;
  stepSeq: number | null;
  details: Record<string, unknown>;
  hash: string;
}

export async function readAudit(db: Sql, migrationId: string, limit?: number): Promise<AuditRow[]> {
  const rows = (
    await db.query(
      `SELECT id, at, actor_oid, actor_name, action, step_seq, details, hash FROM audit WHERE migration_id = $1 ORDER BY id ${limit ? 'DESC LIMIT ' + Number(limit) : 'ASC'}`,
      [migrationId],
    )
  ).rows.map((r: any) => ({
    id: Number(r.id),
    at: new Date(r.at),
    actorOid: r.actor_oid,
    actorName: r.actor_name,
    action: r.action,
    stepSeq: r.step_seq,
    details: r.details,
    hash: r.hash,
  }));
  return limit ? rows.reverse() : rows;
}

/** What kind of tampering verifyAuditChain found. */
export type TamperKind = 'edited-row' | 'deleted-row' | 'truncated-tail' | 'recomputed-chain' | 'time-shift' | 'unknown-key' | 'checkpoint-invalid';

export type ChainVerdict = { ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; reason: string; kind: TamperKind };

/**
 * Recomputes the chain and compares its head with the latest signed checkpoint; reports the first row that does not
 * match, and which kind of tampering that is: an edited row, a deleted row in the middle, a truncated tail (the head
 * is behind the checkpoint), a recomputed chain (hashes that are not the HMAC under the key, or a head that differs
 * from the checkpoint's), or a shifted time.
 */
export async function verifyAuditChain(db: Sql, migrationId: string): Promise<ChainVerdict> {
  const rows = (await db.query('SELECT * FROM audit WHERE migration_id = $1 ORDER BY id ASC', [migrationId])).rows as any[];
  const broken = (r: { id: unknown } | number, kind: TamperKind, reason: string): ChainVerdict => ({
    ok: false,
    rows: rows.length,
    brokenAt: typeof r === 'number' ? r : Number(r.id),
    reason,
    kind,
  });
  let prev = GENESIS;
  let prevAt = -Infinity;
  let keyed = false;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.prev_hash !== prev) return broken(r, 'deleted-row', 'link to the previous row is broken (a row in the middle was deleted, or rows were reordered)');
    const content: RowContent = {
      migrationId: r.migration_id,
      at: new Date(r.at).toISOString(),
      actorOid: r.actor_oid,
      actorName: r.actor_name,
      action: r.action,
      stepSeq: r.step_seq,
      details: r.details,
    };
    const at = new Date(r.at).getTime();
    const nextAt = i + 1 < rows.length ? new Date(rows[i + 1].at).getTime() : Infinity;
    const shifted = at < prevAt || at > nextAt;
    if (r.key_id) {
      const key = keyring.get(r.key_id);
      if (!key)
        return broken(
          r,
          'unknown-key',
          `the row is signed with audit key ${r.key_id}, which this process does not have (AUDIT_HMAC_KEY, or audit.key in the data directory)`,
        );
      keyed = true;
      if (rowHash(prev, content, key) !== r.hash) {
        if (r.hash === rowHash(prev, content))
          return broken(r, 'recomputed-chain', "the row's hash is a plain SHA-256, not the HMAC under the audit key: the chain was recomputed without the key");
        if (shifted) return broken(r, 'time-shift', "the row's time was changed (it is out of order with its neighbours and does not match its hash)");
        return broken(r, 'edited-row', 'row content does not match its hash (the row was changed)');
      }
    } else {
      // Rows written before keys existed are accepted only before the first keyed row: after one it is a downgrade.
      if (keyed) return broken(r, 'recomputed-chain', 'an unkeyed row follows keyed rows: the chain was recomputed without the key');
      if (rowHash(prev, content) !== r.hash) {
        if (shifted) return broken(r, 'time-shift', "the row's time was changed (it is out of order with its neighbours and does not match its hash)");
        return broken(r, 'edited-row', 'row content does not match its hash (the row was changed)');
      }
    }
    prev = r.hash;
    prevAt = at;
  }
  // The head must be at or past the latest signed checkpoint, which the database cannot rewrite.
  const cp = anchor ? await anchor.latestVerified(migrationId) : null;
  if (cp && 'problem' in cp) return broken(0, 'checkpoint-invalid', cp.problem);
  if (cp) {
    const at = rows.find((r) => Number(r.id) === cp.rowId);
    const headId = rows.length ? Number(rows[rows.length - 1].id) : 0;
    if (!at) {
      if (headId < cp.rowId)
        return broken(
          cp.rowId,
          'truncated-tail',
          `the chain ends at row ${headId || 'none'} but a signed checkpoint of ${cp.at} anchors row ${cp.rowId}: the newest rows were deleted`,
        );
      return broken(
        cp.rowId,
        'recomputed-chain',
        `row ${cp.rowId}, anchored by a signed checkpoint of ${cp.at}, is missing from a chain that otherwise verifies: the chain was rebuilt`,
      );
    }
    if (at.hash !== cp.hash)
      return broken(cp.rowId, 'recomputed-chain', `row ${cp.rowId}'s hash differs from the signed checkpoint of ${cp.at}: the chain was recomputed`);
  }
  return { ok: true, rows: rows.length };
}
