import { writeFileSync } from 'node:fs';
import { loadSettings, SettingsError } from '../config.js';
import { openDb, type Db } from '../store/db.js';
import { csvCell } from '../reports/csv.js';
import path from 'node:path';
import { systemClock } from '../clock.js';
import { configureAudit, readAudit, verifyAuditChain } from './audit.js';
import { openAuditTrail } from './audit-anchor.js';

/**
 * `npm run audit:verify -- [migration…] [--export csv|json] [--out file]`
 * Checks each migration's hash chain and reports the first broken link (exit 1 when any is broken);
 * exports the trail for change-management records.
 */
export async function auditCli(argv: string[], db: Db, out: (s: string) => void): Promise<number> {
  const args = [...argv];
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const format = flag('--export');
  const file = flag('--out');
  if (format && format !== 'csv' && format !== 'json') {
    out('--export takes csv or json');
    return 2;
  }
  // Migrations' chains, and each tenant's runner chain (`runners:<tenantId>`: runner registrations, rotations, revocations).
  const runnerChains = (await db.query("SELECT DISTINCT migration_id FROM audit WHERE migration_id LIKE 'runners:%' ORDER BY migration_id")).rows.map(
    (r: any) => r.migration_id as string,
  );
  const ids = args.length
    ? [
        ...(
          await db.query('SELECT id FROM migrations WHERE id = ANY($1) OR lower(name) = ANY($2) ORDER BY created_at', [args, args.map((a) => a.toLowerCase())])
        ).rows.map((r: any) => r.id as string),
        ...runnerChains.filter((c) => args.includes(c)),
      ]
    : [...(await db.query('SELECT id FROM migrations ORDER BY created_at')).rows.map((r: any) => r.id as string), ...runnerChains];
  if (args.length && !ids.length) {
    out(`no migration named ${args.join(', ')}`);
    return 2;
  }
  if (!ids.length) out('no migrations in this store');
  let broken = 0;
  const exported: unknown[] = [];
  for (const id of ids) {
    const v = await verifyAuditChain(db, id);
    if (v.ok) out(`${id}: chain intact (${v.rows} entries)`);
    else {
      broken++;
      out(`${id}: BROKEN at audit row ${v.brokenAt} (${v.kind}): ${v.reason} (${v.rows} entries)`);
    }
    if (format) for (const r of await readAudit(db, id)) exported.push({ migrationId: id, ...r, at: r.at.toISOString() });
  }
  if (format) {
    const text =
      format === 'json'
        ? JSON.stringify(exported, null, 2)
        : [
            'migration_id,id,at,actor_oid,actor_name,action,step_seq,hash,details',
            ...exported.map((r: any) =>
              [r.migrationId, r.id, r.at, r.actorOid, r.actorName, r.action, r.stepSeq, r.hash, JSON.stringify(r.details)]
                .map((v) => csvCell(v == null ? null : String(v)))
                .join(','),
            ),
          ].join('\n');
    if (file) writeFileSync(file, `${text}\n`);
    else out(text);
  }
  return broken ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  (async () => {
    try {
      const settings = loadSettings(process.env, []);
      const db = await openDb({ databaseUrl: settings.DATABASE_URL, dataDir: settings.dataDir });
      // The same key and checkpoints the service uses (AUDIT_HMAC_KEY / audit.key, AUDIT_CHECKPOINT_PATH).
      const trail = await openAuditTrail({
        secret: settings.AUDIT_HMAC_KEY,
        checkpointPath: settings.AUDIT_CHECKPOINT_PATH,
        dir: settings.dataDir ?? path.resolve(settings.CUTOVER_DATA_DIR),
        clock: systemClock,
      });
      configureAudit({ key: trail.key, anchor: trail.anchor });
      const code = await auditCli(process.argv.slice(2), db, (s) => process.stdout.write(`${s}\n`));
      await db.close();
      process.exit(code);
    } catch (e) {
      process.stderr.write(`audit:verify: ${e instanceof SettingsError ? e.message : (e as Error).stack}\n`);
      process.exit(2);
    }
  })();
}
