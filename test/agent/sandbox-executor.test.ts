import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { seedContosoForest, MemorySyncTarget, type ContosoForest } from '../../src/sandbox/onprem/index.js';
import { SandboxExecutor } from '../../src/agent/executors/sandbox.js';
import { runAction } from '../../src/agent/run-action.js';
import { actionNames, catalog, noFlowRuleId } from '../../src/agent/actions.js';
import type { Executor } from '../../src/agent/executors/types.js';

function setup() {
  let f: ContosoForest | undefined;
  const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
  f = seedContosoForest({ target });
  const clock = new ManualClock('2026-11-21T09:00:00Z');
  return { f, exec: new SandboxExecutor({ server: f.server, clock }), clock };
}

describe('sandbox executor', () => {
  it('answers every read action with a result that matches its schema', async () => {
    const { exec } = setup();
    for (const name of actionNames.filter((n) => !catalog[n].mutation && !['ad-count', 'ad-export-identities', 'export-server-config'].includes(n))) {
      const out = await runAction(exec, name, {});
      expect(out, name).toMatchObject({ ok: true });
    }
  });

  it('create-noflow-rules is idempotent: same identifiers, nothing added twice', async () => {
    const { f, exec } = setup();
    const params = { migrationId: 'mig-7', batch: 2, ou: 'ou=cloudsyncpilot,dc=contoso,dc=com', objectTypes: ['user', 'group'] };
    const first: any = await runAction(exec, 'create-noflow-rules', params);
    expect(first.ok).toBe(true);
    expect(first.result.ou).toBe('OU=CloudSyncPilot,DC=contoso,DC=com'); // the DN as AD stores it
    expect(first.result.created).toBe(4);
    expect(first.result.rules.map((r: any) => r.identifier)).toContain(noFlowRuleId('mig-7', 2, 'user', 'inbound'));
    const second: any = await runAction(exec, 'create-noflow-rules', params);
    expect(second.result).toMatchObject({ created: 0, alreadyPresent: 4 });
    expect(second.result.rules.map((r: any) => r.precedence)).toEqual(first.result.rules.map((r: any) => r.precedence));
    expect(f.server.rules().filter((r) => !r.IsStandardRule)).toHaveLength(4);
    // The same identifiers pointed at another OU is a conflict, not a silent change.
    const other: any = await runAction(exec, 'create-noflow-rules', { ...params, ou: 'OU=Finance,DC=contoso,DC=com' });
    expect(other).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('refuses a precedence that is taken or outside 0-99', async () => {
    const { exec } = setup();
    await runAction(exec, 'create-noflow-rules', { migrationId: 'a', batch: 1, ou: 'OU=Sales,DC=contoso,DC=com', objectTypes: ['user'], precedence: 40 });
    const clash: any = await runAction(exec, 'create-noflow-rules', { migrationId: 'b', batch: 1, ou: 'OU=Finance,DC=contoso,DC=com', objectTypes: ['user'], precedence: 41 });
    expect(clash).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const edge: any = await runAction(exec, 'create-noflow-rules', { migrationId: 'c', batch: 1, ou: 'OU=Finance,DC=contoso,DC=com', objectTypes: ['user'], precedence: 99 });
    expect(edge).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const high: any = await runAction(exec, 'create-noflow-rules', { migrationId: 'c', batch: 1, ou: 'OU=Finance,DC=contoso,DC=com', objectTypes: ['user'], precedence: 100 });
    expect(high).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
  });

  it('refuses an OU that does not exist', async () => {
    const { exec } = setup();
    const out = await runAction(exec, 'create-noflow-rules', { migrationId: 'a', batch: 1, ou: 'OU=Nope,DC=contoso,DC=com', objectTypes: ['user'] });
    expect(out).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('remove-noflow-rules rolls back exactly that batch and is idempotent', async () => {
    const { f, exec } = setup();
    await runAction(exec, 'create-noflow-rules', { migrationId: 'm', batch: 1, ou: 'OU=Sales,DC=contoso,DC=com', objectTypes: ['user'] });
    await runAction(exec, 'create-noflow-rules', { migrationId: 'm', batch: 2, ou: 'OU=Finance,DC=contoso,DC=com', objectTypes: ['user'] });
    const out: any = await runAction(exec, 'remove-noflow-rules', { migrationId: 'm', batch: 1 });
    expect(out.result.removed).toHaveLength(2);
    expect(f.server.rules().filter((r) => !r.IsStandardRule)).toHaveLength(2);
    const again: any = await runAction(exec, 'remove-noflow-rules', { migrationId: 'm', batch: 1 });
    expect(again.result.removed).toEqual([]);
  });

  it('set-scheduler refuses while a cycle runs, and waits when asked', async () => {
    const { f, exec, clock } = setup();
    f.server.beginSyncCycle();
    const refused = await runAction(exec, 'set-scheduler', { enabled: false });
    expect(refused).toMatchObject({ ok: false, error: { code: 'refused' } });
    const waiting = runAction(exec, 'set-scheduler', { enabled: false, waitForIdle: true });
    f.server.completeSyncCycle('Delta', clock.now());
    const out: any = await waiting;
    expect(out.result).toMatchObject({ waitedForIdle: true, previousSyncCycleEnabled: true, scheduler: { SyncCycleEnabled: false } });
  });

  it('start-sync-cycle returns the run profile results', async () => {
    const { exec } = setup();
    const out: any = await runAction(exec, 'start-sync-cycle', { policyType: 'Initial' });
    expect(out.result.result).toBe('Success');
    expect(out.result.runs.map((r: any) => r.RunProfileName)).toContain('Full Import');
  });

  it('export-server-config hashes change exactly when the rules change', async () => {
    const { exec, clock } = setup();
    const a: any = (await runAction(exec, 'export-server-config', { label: 'before' })).ok && (await runAction(exec, 'export-server-config', { label: 'before' }));
    clock.advance(1000);
    const b: any = await runAction(exec, 'export-server-config', { label: 'same' });
    const hashes = (r: any) => r.result.files.map((f: any) => `${f.path}:${f.sha256}`).sort();
    expect(hashes(b)).toEqual(hashes(a));
    await runAction(exec, 'create-noflow-rules', { migrationId: 'm', batch: 1, ou: 'OU=Sales,DC=contoso,DC=com', objectTypes: ['user'] });
    const c: any = await runAction(exec, 'export-server-config', { label: 'after' });
    expect(c.result.folder).toMatch(/^Exported-ServerConfiguration-after-20261121T090001Z$/);
    expect(c.result.files.length).toBe(a.result.files.length + 2);
  });

  it('ad-copy-admin-description: dry run reports, apply writes, a second run changes nothing', async () => {
    const { f, exec } = setup();
    const dry: any = await runAction(exec, 'ad-copy-admin-description', { ou: f.ous.GWB, dryRun: true });
    expect(dry.result.changes).toHaveLength(8);
    expect(dry.result.applied).toBe(false);
    expect(f.ad.objectsUnder([f.ous.GWB], ['group']).every((g) => g.externalDirectoryObjectId === undefined)).toBe(true);
    const apply: any = await runAction(exec, 'ad-copy-admin-description', { ou: f.ous.GWB, dryRun: false });
    expect(apply.result).toMatchObject({ applied: true });
    expect(f.ad.objectsUnder([f.ous.GWB], ['group']).every((g) => g.externalDirectoryObjectId === g.adminDescription)).toBe(true);
    const again: any = await runAction(exec, 'ad-copy-admin-description', { ou: f.ous.GWB, dryRun: false });
    expect(again.result.changes).toEqual([]);
  });

  it('ad-count and ad-export-identities', async () => {
    const { f, exec } = setup();
    const count: any = await runAction(exec, 'ad-count', { ou: f.ous.CloudSyncPilot });
    expect(count.result).toMatchObject({ users: 40, groups: 0, contacts: 2 });
    const ids: any = await runAction(exec, 'ad-export-identities', { ou: f.ous.CloudSyncPilot, classes: ['user'] });
    expect(ids.result.count).toBe(40);
    expect(ids.result.objects[0]).toHaveProperty('consistencyGuid');
  });

  it('an executor refuses an action it does not carry out, and says why', async () => {
    const ldapLike: Executor = { kind: 'ldap', run: async () => ({}) };
    const out = await runAction(ldapLike, 'set-scheduler', { enabled: false });
    expect(out).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect((out as any).error.message).toMatch(/ldap executor does not carry out set-scheduler/);
    expect(await runAction(ldapLike, 'Remove-ADSyncRule', {})).toMatchObject({ ok: false, error: { code: 'unknown-action' } });
  });
});
