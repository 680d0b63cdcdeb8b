import { mkdtempSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { openPglite, type Db } from '../../src/store/db.js';
import { appendAudit, auditAnchor, canonicalJson, configureAudit, verifyAuditChain } from '../../src/runbooks/audit.js';
import { FileAuditAnchor, loadAuditKey } from '../../src/runbooks/audit-anchor.js';
import { auditCli } from '../../src/runbooks/audit-cli.js';

/** An attacker with the database but not the key: rewrites rows from `fromId` on and recomputes every later hash. */
async function recomputeFrom(db: Db, migrationId: string, fromId: number): Promise<void> {
  const rows = (await db.query('SELECT * FROM audit WHERE migration_id = $1 ORDER BY id', [migrationId])).rows;
  let prev = '0'.repeat(64);
  for (const r of rows) {
    if (Number(r.id) >= fromId) {
      const content = {
        migrationId: r.migration_id,
        at: new Date(r.at).toISOString(),
        actorOid: r.actor_oid,
        actorName: r.actor_name,
        action: r.action,
        stepSeq: r.step_seq,
        details: r.details,
      };
      const hash = createHash('sha256')
        .update(prev + canonicalJson(content))
        .digest('hex');
      await db.query('UPDATE audit SET prev_hash = $2, hash = $3 WHERE id = $1', [r.id, prev, hash]);
      prev = hash;
    } else prev = r.hash;
  }
}

let db: Db;
let dir: string;
let clock: ManualClock;
let n = 0;
const actor = { oid: '00000000-0000-0000-0000-00000000a1e0', name: 'Alex Wilber' };

beforeAll(async () => {
  db = await openPglite(null);
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cutover-audit-'));
  clock = new ManualClock('2026-11-21T09:00:00Z');
  const { key } = await loadAuditKey({ dir });
  configureAudit({ key, anchor: await FileAuditAnchor.open(path.join(dir, 'audit-checkpoints.jsonl'), key, clock) });
});

/** A migration with `count` audit rows, each appended in its own committed transaction, a minute apart. */
async function chain(count = 5): Promise<{ id: string; rows: number[] }> {
  const id = `mig-${++n}`;
  for (let i = 0; i < count; i++) {
    clock.advance(60_000);
    await db.transaction((tx) =>
      appendAudit(tx, { migrationId: id, at: clock.now(), actor, action: i === 0 ? 'migration-created' : 'approved', stepSeq: i, details: { i } }),
    );
  }
  return { id, rows: (await db.query('SELECT id FROM audit WHERE migration_id = $1 ORDER BY id', [id])).rows.map((r: any) => Number(r.id)) };
}

describe('the audit cannot be rewritten quietly', () => {
  it('an untouched chain verifies; its head is anchored in a 0600 checkpoint file, and the key file is 0600', async () => {
    const m = await chain();
    expect(await verifyAuditChain(db, m.id)).toEqual({ ok: true, rows: 5 });
    const file = path.join(dir, 'audit-checkpoints.jsonl');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'audit.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(5);
    expect(auditAnchor()!.latest(m.id)).toMatchObject({ migrationId: m.id, rowId: m.rows[4] });
    // The key file is reused, not regenerated.
    expect((await loadAuditKey({ dir })).key.toString('hex')).toBe(readFileSync(path.join(dir, 'audit.key'), 'utf8'));
  });

  it('an edited row is named as edited', async () => {
    const m = await chain();
    await db.query(`UPDATE audit SET actor_name = 'Mallory' WHERE id = $1`, [m.rows[2]]);
    expect(await verifyAuditChain(db, m.id)).toMatchObject({ ok: false, kind: 'edited-row', brokenAt: m.rows[2] });
  });

  it('an edit with every later hash recomputed is named as a recomputed chain', async () => {
    const m = await chain();
    await db.query(`UPDATE audit SET actor_name = 'Mallory' WHERE id = $1`, [m.rows[1]]);
    await recomputeFrom(db, m.id, m.rows[1]);
    expect(await verifyAuditChain(db, m.id)).toMatchObject({ ok: false, kind: 'recomputed-chain', brokenAt: m.rows[1] });
  });

  it('a chain stripped of its keys and recomputed whole is caught by the checkpoint', async () => {
    const m = await chain();
    await db.query('UPDATE audit SET key_id = NULL WHERE migration_id = $1', [m.id]);
    await recomputeFrom(db, m.id, m.rows[0]);
    expect(await verifyAuditChain(db, m.id)).toMatchObject({ ok: false, kind: 'recomputed-chain', brokenAt: m.rows[4] });
  });

  it('a row deleted in the middle is named as deleted', async () => {
    const m = await chain();
    await db.query('DELETE FROM audit WHERE id = $1', [m.rows[2]]);
    expect(await verifyAuditChain(db, m.id)).toMatchObject({ ok: false, kind: 'deleted-row', brokenAt: m.rows[3] });
  });

  it('deleting the newest rows is named as a truncated tail (the head is behind the checkpoint)', async () => {
    const m = await chain();
    await db.query('DELETE FROM audit WHERE id >= $1', [m.rows[3]]);
    const v = await verifyAuditChain(db, m.id);
    expect(v).toMatchObject({ ok: false, kind: 'truncated-tail', brokenAt: m.rows[4] });
    expect((v as any).reason).toContain(`the chain ends at row ${m.rows[2]}`);
  });

  it('a shifted time is named as a time shift', async () => {
    const m = await chain();
    await db.query(`UPDATE audit SET at = at - interval '1 day' WHERE id = $1`, [m.rows[3]]);
    expect(await verifyAuditChain(db, m.id)).toMatchObject({ ok: false, kind: 'time-shift', brokenAt: m.rows[3] });
  });

  it('a rolled-back transition is not anchored (no false alarm), and a forged checkpoint is refused', async () => {
    const m = await chain(2);
    await expect(
      db.transaction(async (tx) => {
        await appendAudit(tx, { migrationId: m.id, at: clock.now(), actor, action: 'approved', details: {} });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await verifyAuditChain(db, m.id)).toEqual({ ok: true, rows: 2 });
    const other = await chain(1);
    appendFileSync(
      path.join(dir, 'audit-checkpoints.jsonl'),
      `${JSON.stringify({ v: 1, migrationId: 'mig-x', rowId: 1, hash: 'f'.repeat(64), at: clock.now().toISOString(), sig: '00' })}\n`,
    );
    await db.transaction((tx) => appendAudit(tx, { migrationId: 'mig-x', at: clock.now(), actor, action: 'migration-created', details: {} }));
    expect(await verifyAuditChain(db, other.id)).toEqual({ ok: true, rows: 1 });
  });

  it('audit:verify says which kind of tampering it found', async () => {
    const a = await chain();
    await db.query(
      'INSERT INTO migrations (id, name, kind, tenant_id, domain, policy, params, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [a.id, `Audit ${a.id}`, 'k', 't', 'contoso.com', '{}', '{}', '{}', clock.now()],
    );
    await db.query('DELETE FROM audit WHERE id = $1', [a.rows[4]]);
    const out: string[] = [];
    expect(await auditCli([a.id], db, (s) => out.push(s))).toBe(1);
    expect(out[0]).toContain(`BROKEN at audit row ${a.rows[4]} (truncated-tail)`);
  });
});

describe('the audit key', () => {
  it('comes from AUDIT_HMAC_KEY when set (hex or text), or a generated 0600 file', async () => {
    const hex = 'ab'.repeat(32);
    expect((await loadAuditKey({ secret: hex, dir: null })).key).toEqual(Buffer.from(hex, 'hex'));
    expect((await loadAuditKey({ secret: 'a passphrase of at least thirty-two chars', dir: null })).source).toBe('setting');
    const d = mkdtempSync(path.join(tmpdir(), 'cutover-key-'));
    writeFileSync(path.join(d, 'audit.key'), 'not a key', { mode: 0o644 });
    await expect(loadAuditKey({ dir: d })).rejects.toThrow(/is not an audit key/);
  });
});
