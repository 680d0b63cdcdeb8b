import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ActionError, actionNames, catalog, parseParams, type ActionName } from '../../src/actions/index.js';
import { PowerShellExecutor } from '../../src/agent/executors/powershell.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { runAction } from '../../src/agent/run-action.js';
import { ManualClock } from '../../src/clock.js';
import { MemorySyncTarget, seedContosoForest } from '../../src/sandbox/onprem/index.js';
import { SAMPLE_PARAMS } from './sample-params.js';

const PAYLOADS = [
  "'; Remove-ADSyncRule -Identifier *",
  '"; Remove-ADSyncRule -Identifier *',
  '$(Remove-ADSyncRule -Identifier *)',
  '`$(Stop-Computer)',
  'a`nb',
  'x\nRemove-ADSyncRule',
  'x\r\nSet-ADSyncScheduler -SyncCycleEnabled $true',
  '*)(objectClass=*',
  ')(|(cn=*',
  '\\2a\\29\\28',
  'nul\u0000byte',
  '& calc.exe',
  '| Out-File C:\\evil.ps1',
  '@{a=1}',
  '\u001b[31mred',
];

/** Every top-level string parameter of every action (enums included: they must reject anything else). */
function stringParams(action: ActionName): string[] {
  const shape = (catalog[action].params as any).shape as Record<string, z.ZodType>;
  return Object.entries(shape)
    .filter(([, s]) => {
      const json = z.toJSONSchema(s, { unrepresentable: 'any' }) as any;
      return json.type === 'string' || json.enum !== undefined;
    })
    .map(([k]) => k);
}

function forest() {
  let f: ReturnType<typeof seedContosoForest> | undefined;
  const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
  f = seedContosoForest({ target });
  return { f, exec: new SandboxExecutor({ server: f.server, clock: new ManualClock() }) };
}

describe('injection attempts in every string parameter are rejected or inert', () => {
  const cases: Array<[ActionName, string]> = actionNames.flatMap((a) => stringParams(a).map((p): [ActionName, string] => [a, p]));

  it('covers every string parameter of the catalog', () => {
    expect(cases.map(([a, p]) => `${a}.${p}`).sort()).toEqual(
      [
        'ad-count.ou',
        'ad-count-by-ou.base',
        'ad-copy-admin-description.ou',
        'ad-export-identities.ou',
        'create-group-writeback-noflow-rules.migrationId',
        'create-noflow-rules.migrationId',
        'get-noflow-status.ou',
        'get-pending-exports.connector',
        'gwb-scope-report.ou',
        'export-server-config.label',
        'remove-noflow-rules.migrationId',
        'start-sync-cycle.policyType',
      ].sort(),
    );
  });

  for (const [action, param] of cases) {
    it(`${action}.${param}`, async () => {
      const { f, exec } = forest();
      const before = JSON.stringify(f.server.rules()) + JSON.stringify(f.server.getScheduler());
      const isDn = param === 'ou';
      for (const payload of PAYLOADS) {
        for (const value of isDn ? [payload, `OU=${payload},DC=contoso,DC=com`] : [payload, `ok-${payload}`]) {
          const params = { ...(SAMPLE_PARAMS[action] as object), [param]: value };
          let valid: any;
          try {
            valid = parseParams(action, params);
          } catch (err) {
            expect(err).toBeInstanceOf(ActionError);
            expect((err as ActionError).code).toBe('invalid-params');
            continue;
          }
          // Accepted: only a valid RFC 4514 DN can get here, and it must travel as inert data.
          expect(isDn, `${action}.${param} accepted ${JSON.stringify(value)}`).toBe(true);
          // eslint-disable-next-line no-control-regex -- a parameter that got through carries none
          expect(value).not.toMatch(/[\u0000-\u001f]/);
          const inv = new PowerShellExecutor({ executable: 'pwsh' }).invocation(action, valid);
          expect(inv.args.join(' ')).not.toContain(payload.slice(0, 6));
          expect(JSON.parse(inv.stdin).params[param]).toBe(value);
          const out = await runAction(exec, action, params);
          expect(out, JSON.stringify(value)).toMatchObject({ ok: false, error: { code: 'not-found' } });
        }
      }
      expect(JSON.stringify(f.server.rules()) + JSON.stringify(f.server.getScheduler())).toBe(before);
    });
  }

  it('unknown keys and non-object params are rejected', () => {
    expect(() => parseParams('set-scheduler', { enabled: false, command: 'Remove-ADSyncRule' })).toThrow(/invalid|unrecognized/i);
    expect(() => parseParams('set-scheduler', 'enabled=false')).toThrow(ActionError);
    expect(() => parseParams('ad-count', { ou: ['OU=A,DC=contoso,DC=com'] })).toThrow(ActionError);
  });
});

describe('create-noflow-rules.ous entries', () => {
  it('every injection payload in an OU list is rejected or refused as an OU that does not exist, and no rule changes', async () => {
    const { f, exec } = forest();
    const before = JSON.stringify(f.server.rules());
    for (const payload of PAYLOADS)
      for (const value of [payload, `OU=${payload},DC=contoso,DC=com`]) {
        const out = await runAction(exec, 'create-noflow-rules', { migrationId: 'm', ous: ['OU=Sales,DC=contoso,DC=com', value], objectTypes: ['user'] });
        expect(out.ok, JSON.stringify(value)).toBe(false);
        expect(['invalid-params', 'not-found']).toContain((out as any).error.code);
      }
    expect(JSON.stringify(f.server.rules())).toBe(before);
  });
});
