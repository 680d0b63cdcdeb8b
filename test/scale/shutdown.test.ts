import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingConnector } from '../helpers/connector.js';
import { USERS, PILOT_OU } from '../helpers/harness.js';
import { activity, post, startCutover, stopCutover, type Proc } from './processes.js';

/** SIGTERM drains the turn in flight: it finishes, the store closes cleanly, the process exits 0. */
describe('graceful shutdown', () => {
  let proc: Proc | undefined;
  const connector = new RecordingConnector();
  afterAll(async () => {
    await stopCutover(proc);
    await connector.stop();
  });

  it('finishes a slow turn started before SIGTERM, exits 0, and the store reopens with its result', async () => {
    await connector.start();
    connector.members = Object.values(USERS);
    connector.delayMs = 150; // a slow connector: the roster, the new post, its first card and the answer take a while
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cutover-shutdown-'));
    proc = await startCutover('a', { CUTOVER_DATA_DIR: dataDir, MONITOR: '0' });
    const tenantId = (await (await fetch(`${proc.url}/sandbox/v1/state`)).json()).tenantId;
    const turn = post(
      proc,
      activity(connector.url, USERS.alex, tenantId, {
        type: 'message',
        text: `new migration "Drain" domain=contoso.com ou="${PILOT_OU}" owners=${USERS.megan.aadObjectId}`,
      }),
    );
    await connector.waitFor(() => connector.sent.length >= 2 || undefined, 30_000, 'the turn to be under way');
    proc.child.kill('SIGTERM');
    const [reply, exit] = await Promise.all([turn, proc.exited]);
    expect(reply.status).toBe(200);
    // Nothing cut off: the migration's own post (the overview), its first step's card in that thread, and the answer
    // in the command's thread saying it was created (at once, or replacing its "Creating…").
    const top = connector.sent.filter((s) => s.topLevel);
    expect(top.map((s) => JSON.stringify(s.activity).includes('0 of 20 steps done'))).toEqual([true]);
    expect(connector.sent.filter((s) => s.method === 'POST' && !s.topLevel && s.conversationId === top[0].conversationId)).toHaveLength(1);
    expect(connector.sent.some((s) => JSON.stringify(s.activity).includes('Migration \\"Drain\\" created'))).toBe(true);
    expect(exit).toEqual({ code: 0, signal: null });
    // The PGlite store was closed cleanly: a new process opens it and finds the migration complete with its steps.
    connector.delayMs = 0;
    proc = await startCutover('b', { CUTOVER_DATA_DIR: dataDir, MONITOR: '0' });
    const n = connector.sent.length;
    await post(proc, activity(connector.url, USERS.alex, tenantId, { type: 'message', text: 'status Drain' }));
    const status = await connector.waitFor(() => connector.sent.slice(n).find((s) => JSON.stringify(s.activity).includes('steps done')));
    expect(JSON.stringify(status.activity)).toContain('0 of 20 steps done');
  });
});
