import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CARDS_DIR } from '../../src/bot/cards.js';
import { COMMAND_HANDLERS } from '../../src/bot/commands/index.js';
import { VERB_HANDLERS, verbHandler } from '../../src/bot/verbs/index.js';
import { Scope } from '../../src/bot/scope.js';
import type { BotDeps } from '../../src/bot/deps.js';

/** The bot's route tables and its one tenant and conversation check, in-process: no app, no bot, no database. */

const withPolicy = { policyChanges: {} } as BotDeps;
const withoutPolicy = {} as BotDeps;

describe('the route tables', () => {
  it("every verb a card template names has one handler (and the refused cancel's rollback button too)", () => {
    const verbs = new Set<string>(['migration.rollback']);
    for (const f of readdirSync(CARDS_DIR).filter((f) => f.endsWith('.json'))) {
      for (const m of readFileSync(path.join(CARDS_DIR, f), 'utf8').matchAll(/"verb":\s*"([a-z][a-z.-]+)"/g)) verbs.add(m[1]);
    }
    expect(verbs.size).toBeGreaterThan(20);
    for (const v of verbs) expect(verbHandler(v, withPolicy), v).toBeDefined();
  });

  it('no verb and no trigger is claimed twice', () => {
    const verbs = VERB_HANDLERS.flatMap((h) => h.triggerVerbs);
    expect(new Set(verbs).size).toBe(verbs.length);
    const triggers = COMMAND_HANDLERS.flatMap((h) => h.triggerPatterns.map((p) => p.toLowerCase()));
    expect(new Set(triggers).size).toBe(triggers.length);
  });

  it('unknown verbs, Object.prototype members and unavailable features have no handler', () => {
    for (const v of ['step.explode', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '']) expect(verbHandler(v, withPolicy), v).toBeUndefined();
    expect(verbHandler('policy.approve', withoutPolicy)).toBeUndefined();
    expect(verbHandler('policy.approve', withPolicy)).toBeDefined();
  });
});

describe('the scope check', () => {
  const engine = { listMigrations: async () => [] };
  const here = new Scope('tenant-a', '19:chan@thread.tacv2;messageid=2', engine as any);

  it('a subject of this tenant in this channel (any post of it), or of no conversation, is here', () => {
    expect(here.verdict({ tenantId: 'tenant-a', conversations: ['19:chan@thread.tacv2;messageid=1'] })).toBe('here');
    expect(here.verdict({ tenantId: 'tenant-a', conversations: [] })).toBe('here');
    expect(here.verdict({ tenantId: 'tenant-a', conversations: ['19:other@thread.tacv2', '19:chan@thread.tacv2'] })).toBe('here');
  });

  it('another tenant, another channel, or nothing at all is not', () => {
    expect(here.verdict(null)).toBe('missing');
    expect(here.verdict({ tenantId: 'tenant-b', conversations: ['19:chan@thread.tacv2'] })).toBe('other-tenant');
    expect(here.verdict({ tenantId: 'tenant-a', conversations: ['19:other@thread.tacv2'] })).toBe('other-conversation');
  });

  it('a click without a conversation is checked for its tenant only', () => {
    const noConversation = new Scope('tenant-a', undefined, engine as any);
    expect(noConversation.verdict({ tenantId: 'tenant-a', conversations: ['19:other@thread.tacv2'] })).toBe('here');
    expect(noConversation.verdict({ tenantId: 'tenant-b', conversations: [] })).toBe('other-tenant');
  });

  it('commands find migrations of this channel and tenant only, the newest of a name', async () => {
    const ms = [
      { id: 'a1', name: 'Pilot', tenantId: 'tenant-a', conversationId: '19:chan@thread.tacv2;messageid=1' },
      { id: 'a2', name: 'pilot', tenantId: 'tenant-a', conversationId: '19:chan@thread.tacv2;messageid=3' },
      { id: 'b1', name: 'Other', tenantId: 'tenant-b', conversationId: '19:chan@thread.tacv2' },
      { id: 'c1', name: 'Elsewhere', tenantId: 'tenant-a', conversationId: '19:other@thread.tacv2' },
      { id: 'd1', name: 'Nowhere', tenantId: 'tenant-a', conversationId: null },
    ];
    const scope = new Scope('tenant-a', '19:chan@thread.tacv2;messageid=9', { listMigrations: async () => ms } as any);
    expect((await scope.migrations()).map((m) => m.id)).toEqual(['a1', 'a2']);
    expect((await scope.find('PILOT'))?.id).toBe('a2');
    expect((await scope.find('a1'))?.id).toBe('a1');
    expect(await scope.find('Other')).toBeNull();
    expect(await scope.find('b1')).toBeNull();
    expect(await scope.find('Elsewhere')).toBeNull();
    expect((await scope.resolve()).map((m) => m.id)).toEqual(['a1', 'a2']);
    expect(await scope.resolve('Nowhere')).toEqual([]);
  });
});
