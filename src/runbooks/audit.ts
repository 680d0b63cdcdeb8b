import { createHash } from 'node:crypto';
import type { Sql } from '../store/db.js';

/**
 * The audit trail: one row per state change, each row's hash chained to the previous row of the
 * same migration, so an edited or deleted row is detected by verifyAuditChain.
 */

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

function rowHash(prev: string, e: { migrationId: string; at: string; actorOid: string | null; actorName: string | null; action: string; stepSeq: number | null; details: unknown }): string {
  return sha256(prev + canonicalJson(e));
}

/** Appends one row; call inside the transaction that makes the change it records. */
export async function appendAudit(tx: Sql, e: AuditEntry): Promise<void> {
  // The migration row lock serialises appends for one migration (callers hold it), so prev is stable.
  const prev = (await tx.query<{ hash: string }>('SELECT hash FROM audit WHERE migration_id = $1 ORDER BY id DESC LIMIT 1', [e.migrationId])).rows[0]?.hash ?? GENESIS;
  const row = {
    migrationId: e.migrationId,
    at: e.at.toISOString(),
    actorOid: e.actor?.oid ?? null,
    actorName: e.actor?.name ?? null,
    action: e.action,
    stepSeq: e.stepSeq ?? null,
    details: e.details,
  };
  const hash = rowHash(prev, row);
  await tx.query(
    'INSERT INTO audit (migration_id, at, actor_oid, actor_name, action, step_seq, details, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
    [row.migrationId, row.at, row.actorOid, row.actorName, row.action, row.stepSeq, JSON.stringify(row.details), prev, hash],
  );
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

export type ChainVerdict = { ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; reason: string };

/** Recomputes the chain; reports the first row whose content or link does not match. */
export async function verifyAuditChain(db: Sql, migrationId: string): Promise<ChainVerdict> {
  const rows = (await db.query('SELECT * FROM audit WHERE migration_id = $1 ORDER BY id ASC', [migrationId])).rows as any[];
  let prev = GENESIS;
  for (const r of rows) {
    if (r.prev_hash !== prev) return { ok: false, rows: rows.length, brokenAt: Number(r.id), reason: 'link to the previous row is broken (a row was removed or reordered)' };
    const expect = rowHash(prev, {
      migrationId: r.migration_id,
      at: new Date(r.at).toISOString(),
      actorOid: r.actor_oid,
      actorName: r.actor_name,
      action: r.action,
      stepSeq: r.step_seq,
      details: r.details,
    });
    if (expect !== r.hash) return { ok: false, rows: rows.length, brokenAt: Number(r.id), reason: 'row content does not match its hash (the row was changed)' };
    prev = r.hash;
  }
  return { ok: true, rows: rows.length };
}
