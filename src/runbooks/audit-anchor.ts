import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock.js';
import { canonicalJson } from './audit.js';

/**
 * Signed checkpoints of audit chain heads, kept where the database cannot rewrite them: after every committed audit
 * row, the migration's head (row id and hash) is signed (HMAC-SHA256 under a key derived from the audit key) and
 * appended to a file. verifyAuditChain compares the chain with the latest checkpoint, so deleting the newest rows or
 * rebuilding the chain is detected even by someone who can rewrite every row. In Azure the eventual home of the
 * checkpoints is an append-only (immutable) blob or Key Vault; the file under the data directory is the default.
 */

export interface Checkpoint {
  v: 1;
  migrationId: string;
  rowId: number;
  hash: string;
  /** When the checkpoint was written (the service's clock). */
  at: string;
  sig: string;
}

export interface AuditAnchor {
  /** Anchors a committed head; ignored when a later head of the migration is already anchored. */
  record(head: { migrationId: string; rowId: number; hash: string }): Promise<void>;
  /** The latest checkpoint of a migration as last written by this process (for the overview card), or null. */
  latest(migrationId: string): Checkpoint | null;
  /** The latest checkpoint as stored now (re-read and signature-checked), or a problem with the store, or null. */
  latestVerified(migrationId: string): Promise<Checkpoint | { problem: string } | null>;
}

function signer(key: Buffer) {
  const k = createHmac('sha256', key).update('cutover-audit-checkpoint-v1').digest();
  const sign = (c: Omit<Checkpoint, 'sig'>) => createHmac('sha256', k).update(canonicalJson(c)).digest('hex');
  const valid = (c: Checkpoint) => {
    const { sig, ...rest } = c;
    const want = Buffer.from(sign(rest), 'hex');
    const got = Buffer.from(typeof sig === 'string' ? sig : '', 'hex');
    return want.length === got.length && timingSafeEqual(want, got);
  };
  return { sign, valid };
}

/** Checkpoints in memory only (an in-memory store, tests): the process itself is the outside of the database. */
export class MemoryAuditAnchor implements AuditAnchor {
  readonly #latest = new Map<string, Checkpoint>();
  readonly #s: ReturnType<typeof signer>;
  constructor(
    key: Buffer,
    private readonly clock: Clock,
  ) {
    this.#s = signer(key);
  }
  async record(head: { migrationId: string; rowId: number; hash: string }): Promise<void> {
    const cur = this.#latest.get(head.migrationId);
    if (cur && cur.rowId >= head.rowId) return;
    const body = { v: 1 as const, ...head, at: this.clock.now().toISOString() };
    this.#latest.set(head.migrationId, { ...body, sig: this.#s.sign(body) });
  }
  latest(migrationId: string): Checkpoint | null {
    return this.#latest.get(migrationId) ?? null;
  }
  async latestVerified(migrationId: string) {
    return this.latest(migrationId);
  }
}

/**
 * Checkpoints appended to a file (one JSON line each, O_APPEND, 0600). The database's owner cannot rewrite it from
 * SQL; whoever can write the file system can, which is why Azure deployments should point it at immutable storage.
 */
export class FileAuditAnchor implements AuditAnchor {
  readonly #latest = new Map<string, Checkpoint>();
  readonly #s: ReturnType<typeof signer>;
  #queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    key: Buffer,
    private readonly clock: Clock,
  ) {
    this.#s = signer(key);
  }

  static async open(file: string, key: Buffer, clock: Clock): Promise<FileAuditAnchor> {
    const a = new FileAuditAnchor(path.resolve(file), key, clock);
    await mkdir(path.dirname(a.file), { recursive: true });
    const { latest } = await a.#read();
    for (const [k, v] of latest) a.#latest.set(k, v);
    return a;
  }

  async #read(): Promise<{ latest: Map<string, Checkpoint>; problem: string | null }> {
    const latest = new Map<string, Checkpoint>();
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e: any) {
      if (e?.code === 'ENOENT') return { latest, problem: null };
      throw e;
    }
    let problem: string | null = null;
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let c: Checkpoint;
      try {
        c = JSON.parse(line);
      } catch {
        problem ??= `line ${i + 1} of ${this.file} is not a checkpoint`;
        return;
      }
      if (!this.#s.valid(c)) {
        problem ??= `the checkpoint on line ${i + 1} of ${this.file} has a bad signature (forged, or signed with another key)`;
        return;
      }
      const cur = latest.get(c.migrationId);
      if (!cur || c.rowId > cur.rowId) latest.set(c.migrationId, c);
    });
    return { latest, problem };
  }

  record(head: { migrationId: string; rowId: number; hash: string }): Promise<void> {
    const run = this.#queue.then(async () => {
      const cur = this.#latest.get(head.migrationId);
      if (cur && cur.rowId >= head.rowId) return;
      const body = { v: 1 as const, ...head, at: this.clock.now().toISOString() };
      const c: Checkpoint = { ...body, sig: this.#s.sign(body) };
      const fh = await open(this.file, 'a', 0o600);
      try {
        await fh.appendFile(`${JSON.stringify(c)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.#latest.set(head.migrationId, c);
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  latest(migrationId: string): Checkpoint | null {
    return this.#latest.get(migrationId) ?? null;
  }

  async latestVerified(migrationId: string): Promise<Checkpoint | { problem: string } | null> {
    await this.#queue;
    const { latest, problem } = await this.#read();
    const c = latest.get(migrationId) ?? null;
    if (problem && !c) return { problem };
    // A checkpoint this process wrote that is gone from the file: the file was cut.
    const mine = this.#latest.get(migrationId);
    if (mine && (!c || c.rowId < mine.rowId))
      return { problem: `the checkpoint of row ${mine.rowId} (${mine.at}) is missing from ${this.file}: the checkpoint file was cut` };
    return c;
  }
}

/**
 * The audit key: AUDIT_HMAC_KEY when set (hex of 32+ bytes, or any string of 32+ characters); otherwise a generated
 * 32-byte key kept in <dir>/audit.key with 0600 permissions (created on first start), or, with no directory, one for
 * this process only.
 */
export async function loadAuditKey(opts: {
  secret?: string;
  dir: string | null;
}): Promise<{ key: Buffer; source: 'setting' | 'file' | 'ephemeral'; file?: string }> {
  if (opts.secret) {
    const key = /^(?:[0-9a-f]{2}){32,}$/i.test(opts.secret) ? Buffer.from(opts.secret, 'hex') : Buffer.from(opts.secret, 'utf8');
    return { key, source: 'setting' };
  }
  if (!opts.dir) return { key: randomBytes(32), source: 'ephemeral' };
  const file = path.join(opts.dir, 'audit.key');
  await mkdir(opts.dir, { recursive: true });
  try {
    const fh = await open(file, 'wx', 0o600);
    const key = randomBytes(32);
    try {
      await fh.writeFile(key.toString('hex'));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return { key, source: 'file', file };
  } catch (e: any) {
    if (e?.code !== 'EEXIST') throw e;
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  const text = (await readFile(file, 'utf8')).trim();
  if (!/^(?:[0-9a-f]{2}){32,}$/i.test(text)) throw new Error(`${file} is not an audit key (64+ hex digits)`);
  return { key: Buffer.from(text, 'hex'), source: 'file', file };
}

/**
 * The audit key and checkpoint anchor a process uses: with a store on disk (PGlite's data directory, or with
 * PostgreSQL the CUTOVER_DATA_DIR), the key file and checkpoint file live there unless set; with an in-memory store
 * (`dir` null) the key is for this process and checkpoints are kept in memory, unless a checkpoint path is set.
 */
export async function openAuditTrail(opts: {
  secret?: string;
  checkpointPath?: string;
  dir: string | null;
  clock: Clock;
}): Promise<{ key: Buffer; keySource: 'setting' | 'file' | 'ephemeral'; anchor: AuditAnchor }> {
  const { key, source } = await loadAuditKey({ secret: opts.secret, dir: opts.dir });
  const file = opts.checkpointPath ?? (opts.dir ? path.join(opts.dir, 'audit-checkpoints.jsonl') : null);
  const anchor = file ? await FileAuditAnchor.open(file, key, opts.clock) : new MemoryAuditAnchor(key, opts.clock);
  return { key, keySource: source, anchor };
}
