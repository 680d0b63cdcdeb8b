import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import restify from 'restify';
import { describe, expect, it } from 'vitest';
import { actionNames } from '../../src/actions/index.js';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { RunnerHub, type RunnerJob } from '../../src/runner/index.js';
import { openPglite } from '../../src/store/db.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'cutover-runner.mjs');
const run = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('cutover-runner CLI', () => {
  it('actions --json lists the whole allowlist with parameters', async () => {
    const r = await cli('actions', '--json');
    const rows = JSON.parse(r.stdout);
    expect(rows.map((x: any) => x.name)).toEqual(actionNames);
    expect(rows.find((x: any) => x.name === 'create-noflow-rules').params).toHaveProperty('ous');
  });

  it('exec runs one action and prints its JSON result', async () => {
    const r = await cli('exec', 'get-scheduler', '--executor', 'sandbox');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, result: { SyncCycleEnabled: true } });
  });

  it('exec --dry-run with powershell prints the exact script and stdin, and runs nothing', async () => {
    const r = await cli(
      'exec',
      'ad-copy-admin-description',
      '--params',
      '{"ou":"OU=GWB,DC=contoso,DC=com","dryRun":false}',
      '--executor',
      'powershell',
      '--dry-run',
      '--powershell',
      '/nonexistent/pwsh',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.plan.script).toContain('Set-ADGroup -Identity $c.dn -Add');
    expect(JSON.parse(out.plan.stdin)).toEqual({ action: 'ad-copy-admin-description', params: { ou: 'OU=GWB,DC=contoso,DC=com', dryRun: false } });
  });

  it('rejects bad parameters and refuses unsupported executor/action pairs with a reason', async () => {
    const bad = await cli('exec', 'export-server-config', '--params', `{"label":"x'; Remove-ADSyncRule"}`, '--executor', 'sandbox', '--dry-run');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/label/);
    const refused = await cli('exec', 'start-sync-cycle', '--params', '{"policyType":"Delta"}', '--executor', 'ldap', '--dry-run');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/does not carry out start-sync-cycle/);
    expect((await cli('exec', 'Invoke-Expression', '--executor', 'sandbox')).code).toBe(2);
  });

  it('runs as an agent against the service and reports a job', async () => {
    const db = await openPglite(null);
    const clock = new ManualClock();
    let resolveSettled!: (j: RunnerJob) => void;
    const settled = new Promise<RunnerJob>((r) => (resolveSettled = r));
    const hub = new RunnerHub({ db, clock, log: createLogger({ level: 'silent' }), onJobSettled: async (j) => resolveSettled(j), pollWaitMs: 2_000 });
    const server = restify.createServer();
    hub.registerRoutes(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { token } = await hub.createRunner({ name: 'cli', tenantId: 't1' });
    const dir = mkdtempSync(path.join(tmpdir(), 'cutover-runner-'));
    writeFileSync(path.join(dir, 'token'), `${token}\n`, { mode: 0o600 });
    const child = spawn(
      process.execPath,
      [BIN, '--server', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, '--token-file', path.join(dir, 'token'), '--executor', 'sandbox'],
      {
        stdio: 'ignore',
      },
    );
    try {
      const queued = await hub.enqueue({
        migrationId: 'm',
        stepSeq: 1,
        attempt: 1,
        action: 'ad-count',
        params: { ou: 'OU=Finance,DC=contoso,DC=com' },
        tenantId: 't1',
        mutation: false,
      });
      const job = await settled;
      expect(job).toMatchObject({ id: queued.id, state: 'succeeded', result: { users: 80 } });
      expect((await hub.listRunners())[0]).toMatchObject({ executor: 'sandbox', health: 'Healthy' });
    } finally {
      child.kill('SIGTERM');
      server.close();
      await db.close();
    }
  }, 90_000);
});
