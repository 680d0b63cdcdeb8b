import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { loadSettings, SettingsError } from '../../src/config.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), text: () => lines.join('') };
}

describe('secrets are never logged', () => {
  it('redacts passwords, client secrets, tokens, authorization headers and database URLs wherever they appear in a log object', () => {
    const { log, text } = capture();
    log.info(
      {
        MicrosoftAppPassword: 'bot-secret-1',
        settings: {
          GRAPH_TENANTS: [{ tenantId: 't', clientId: 'c', clientSecret: 'tenant-secret-8' }],
          GRAPH_CLIENT_SECRET: 'graph-secret-2',
          DATABASE_URL: 'postgres://u:db-secret-3@h/db',
        },
        req: { headers: { authorization: 'Bearer jwt-secret-4' } },
        runner: { token: 'cutover_runner-secret-5' },
        ldap: { bindPassword: 'ldap-secret-6' },
      },
      'starting',
    );
    log.error({ err: new Error('boom'), auth: { clientSecret: 'graph-secret-7' } }, 'failed');
    const out = text();
    for (const secret of [
      'bot-secret-1',
      'graph-secret-2',
      'db-secret-3',
      'jwt-secret-4',
      'runner-secret-5',
      'ldap-secret-6',
      'graph-secret-7',
      'tenant-secret-8',
    ])
      expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
    expect(out).toContain('starting');
  });
});

describe('settings', () => {
  it('stops with one line naming a missing or malformed setting, without echoing secret values', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /^Setting PORT is invalid/],
      [{ MicrosoftAppId: '00000000-0000-0000-0000-000000000001' }, /^Setting MicrosoftAppPassword is required when MicrosoftAppId is set/],
      [
        { MicrosoftAppId: 'x', MicrosoftAppPassword: 'p', MicrosoftAppType: 'SingleTenant' },
        /^Setting MicrosoftAppTenantId is required when MicrosoftAppType=SingleTenant/,
      ],
      [{ GRAPH_TENANT_ID: 't' }, /^Setting GRAPH_CLIENT_SECRET a Graph credential is required outside sandbox mode/],
      [{ DATABASE_URL: 'mysql://root:hunter2@h/db' }, /^Setting DATABASE_URL /],
      [{ MONITOR_CRON: 'every minute' }, /^Setting MONITOR_CRON /],
    ];
    for (const [env, pattern] of cases) {
      let message = '';
      try {
        loadSettings(env);
      } catch (e) {
        expect(e).toBeInstanceOf(SettingsError);
        message = (e as Error).message;
      }
      expect(message, JSON.stringify(env)).toMatch(pattern);
      expect(message.split('\n')).toHaveLength(1);
      expect(message).not.toContain('hunter2');
    }
  });

  it('runs the sandbox with no settings at all, and leaves it when a Graph tenant is configured', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({ sandbox: true, PORT: 3978, PLAYGROUND: true, MONITOR_CRON: '*/2 * * * *' });
    expect(loadSettings({}, ['--no-playground']).PLAYGROUND).toBe(false);
    expect(
      loadSettings({ GRAPH_TENANT_ID: 't', GRAPH_MANAGED_IDENTITY: '1', MicrosoftAppId: 'a', MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppTenantId: 't' })
        .sandbox,
    ).toBe(false);
  });
});
