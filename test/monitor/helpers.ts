import type { Harness } from '../helpers/harness.js';

/**
 * Clicks a pilot through to Cloud Sync running for its OU: configured, and (where the runbook has those steps)
 * provisioned on demand and enabled. Finds the steps by key, so it follows the runbook as it grows.
 */
export async function runCloudSync(h: Harness, migrationId: string): Promise<void> {
  const steps = await h.app.engine.getSteps(migrationId);
  const keys = ['configure-cloud-sync', 'provision-on-demand', 'enable-cloud-sync'];
  const last = steps.filter((s) => keys.includes(s.key) && (s.batch ?? 1) === 1).pop();
  if (!last) throw new Error('the runbook has no configure-cloud-sync step');
  await h.advance(migrationId, last.seq);
}

/** The URL of the card's "Full report" button, if it has one. */
export function reportLink(card: any): string | undefined {
  let url: string | undefined;
  const walk = (n: any) => {
    if (!n || typeof n !== 'object' || url) return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.OpenUrl' && typeof n.url === 'string' && n.url.includes('/api/reports/alerts/')) url = n.url;
    for (const v of Object.values(n)) if (typeof v === 'object') walk(v);
  };
  walk(card);
  return url;
}

import { ManualClock } from '../../src/clock.js';
import { loadSettings } from '../../src/config.js';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import type { Db } from '../../src/store/db.js';
import { SandboxTenant } from '../../src/sandbox/tenant.js';
import { Harness as H, USERS } from '../helpers/harness.js';
import { RecordingConnector } from '../helpers/connector.js';

/**
 * A cutover process whose database, sandbox tenant and Teams connector outlive it: stop it with
 * `h.app.stop()` and start another on the same three, as a restarted process would find them.
 */
export async function startProcess(o: {
  db: Db;
  tenant?: SandboxTenant;
  connector?: RecordingConnector;
  clock?: ManualClock;
  env?: Record<string, string>;
}): Promise<H> {
  const clock = o.clock ?? new ManualClock(new Date());
  const log = createLogger({ level: 'silent' });
  const connector = o.connector ?? (await new RecordingConnector().start());
  connector.members = Object.values(USERS);
  const tenant = o.tenant ?? (await SandboxTenant.start({ clock, log }));
  const settings = loadSettings({ PORT: '0', PLAYGROUND: '0', MONITOR: '0', LOG_LEVEL: 'silent', SANDBOX_EXECUTOR: 'sandbox', ...o.env }); // manual clock: the TypeScript executor
  const app = await buildApp(settings, { clock, log, db: o.db, sandboxTickMs: 0, monitorSchedules: false, notifierRetryBaseMs: 10, tenant });
  return new H(app, connector, clock);
}
