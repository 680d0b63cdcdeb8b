import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS } from '../helpers/harness.js';
import { createLogger } from '../../src/log.js';

/** Structured logs carry correlation ids: a bot turn's log line names its activity id. */
describe('correlation ids in logs', () => {
  let h: Harness;
  const lines: any[] = [];
  beforeAll(async () => {
    const stream = new PassThrough();
    let buf = '';
    stream.on('data', (d) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    h = await Harness.start({ build: { log: createLogger({ level: 'info', destination: stream }) } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('logs each turn with its activity id, tenant and conversation', async () => {
    const act = h.activity(USERS.alex, { type: 'message', text: 'help' });
    expect((await h.post(act)).status).toBe(200);
    await expect.poll(() => lines.find((l) => l.msg === 'turn' && l.activityId === act.id), { timeout: 5_000 }).toBeTruthy();
    const line = lines.find((l) => l.msg === 'turn' && l.activityId === act.id);
    expect(line).toMatchObject({ component: 'bot', type: 'message', tenantId: h.app.tenant!.tenantId, conversationId: act.conversation.id });
  });
});
