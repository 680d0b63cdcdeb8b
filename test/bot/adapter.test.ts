import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationReference, TurnContext } from 'botbuilder';
import { createAdapter } from '../../src/bot/adapter.js';
import type { Settings } from '../../src/config.js';
import { RecordingConnector } from '../helpers/connector.js';

/**
 * The adapter keeps its Bot Connector clients: a client per service URL (and app id, audience) serves every turn and
 * every proactive send, instead of a new one (credentials, HTTP pipeline) per turn, and sends still reach Teams.
 */
describe('Bot Connector clients', () => {
  const connector = new RecordingConnector();
  const other = new RecordingConnector();
  beforeAll(async () => {
    await connector.start();
    await other.start();
  });
  afterAll(async () => {
    await connector.stop();
    await other.stop();
  });

  const ref = (serviceUrl: string): Partial<ConversationReference> => ({
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: '19:adapter@thread.tacv2', isGroup: true, conversationType: 'channel', name: 'x' },
    bot: { id: '28:cutover', name: 'cutover' },
  });

  it('sends through one connector client per service URL, turn after turn', async () => {
    const adapter = createAdapter({} as Settings);
    const clients: unknown[] = [];
    const send = (serviceUrl: string, text: string) =>
      adapter.continueConversationAsync('', ref(serviceUrl) as ConversationReference, async (ctx: TurnContext) => {
        clients.push(ctx.turnState.get(adapter.ConnectorClientKey));
        await ctx.sendActivity(text);
      });
    await send(connector.url, 'one');
    await send(connector.url, 'two');
    await send(other.url, 'three');
    expect(clients[0]).toBeDefined();
    expect(clients[1]).toBe(clients[0]);
    expect(clients[2]).not.toBe(clients[0]);
    expect(connector.sent.map((r) => r.activity?.text)).toEqual(['one', 'two']);
    expect(other.sent.map((r) => r.activity?.text)).toEqual(['three']);
  });
});
