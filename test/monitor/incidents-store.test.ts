import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { AlertService, alertResponders, type AlertContent, type AlertEvent } from '../../src/monitor/alerts.js';
import { openPglite, openPostgres, type Db } from '../../src/store/db.js';

/**
 * The incident store on its own, on PGlite and on PostgreSQL (TEST_DATABASE_URL; skipped without it): one incident per
 * (tenant, subject, check, scope) whatever the number of migrations raising it at once or the processes doing it, open
 * until its condition clears for every active migration it affects.
 */
function suite(name: string, open: () => Promise<Db>, skip = false) {
  describe.skipIf(skip)(`incidents per subject (${name})`, () => {
    let db: Db;
    const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
    const tenantId = randomUUID();
    const ms = ['a', 'b', 'c'].map((x) => ({ id: `inc-${x}-${randomUUID().slice(0, 8)}`, name: `Incident ${x.toUpperCase()}` }));
    const subject = `job:AD2AADProvisioning.${randomUUID()}`;
    const key = (migrationId: string) => ({
      migrationId,
      tenantId,
      conversationId: '19:ops@thread.tacv2',
      check: 'job-health',
      scope: subject.slice(4),
      subject,
    });
    const content: AlertContent = {
      severity: 'critical',
      title: 'Cloud Sync job quarantined: TooManyDeletes',
      summary: 's',
      facts: [],
      action: { kind: 'restart-job', jobId: subject.slice(4), resetScope: 'ForceDeletes', reason: 'TooManyDeletes' },
    };

    beforeAll(async () => {
      db = await open();
      for (const [i, m] of ms.entries()) {
        await db.query(
          'INSERT INTO migrations (id, name, kind, tenant_id, domain, policy, params, created_by, created_at, conversation_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)',
          [
            m.id,
            m.name,
            'connect-to-cloud-sync',
            tenantId,
            'contoso.com',
            JSON.stringify({ owners: [`owner-${i}`], quorum: 1 }),
            JSON.stringify({ ous: [] }),
            JSON.stringify({ oid: 'x', name: 'X' }),
            new Date(clock.now().getTime() + i).toISOString(),
            `19:ops@thread.tacv2;messageid=${i}`,
          ],
        );
      }
    });
    afterAll(async () => {
      await db?.close();
    });

    it('three migrations raising at once (two processes) make one incident affecting all three; a restarted process finds it', async () => {
      const one = new AlertService({ db, clock });
      const two = new AlertService({ db, clock });
      const events: AlertEvent[] = [];
      one.on((e) => events.push(e));
      two.on((e) => events.push(e));
      const raised = await Promise.all(ms.map((m, i) => (i % 2 ? two : one).raise(key(m.id), content)));
      expect(new Set(raised.map((r) => r.alertId)).size).toBe(1);
      expect(raised.filter((r) => r.opened)).toHaveLength(1);
      expect(events.filter((e) => e.type === 'opened')).toHaveLength(1);
      const a = (await one.get(raised[0].alertId))!;
      expect(a.migrations.map((m) => m.name).sort()).toEqual(ms.map((m) => m.name));
      expect(a.action).toEqual(content.action);
      // Found from each migration it affects, and audited in each one's chain.
      for (const m of ms) {
        expect((await one.list({ migrationId: m.id, openOnly: true })).map((x) => x.id)).toEqual([a.id]);
        expect(
          (
            await db.query("SELECT count(*)::int AS n FROM audit WHERE migration_id = $1 AND action = 'alert-opened' AND details->>'alertId' = $2", [
              m.id,
              a.id,
            ])
          ).rows[0].n,
        ).toBe(1);
      }
      // After a restart (a new service on the same store): the same incident, no duplicate, no event.
      const restarted = new AlertService({ db, clock });
      const again: AlertEvent[] = [];
      restarted.on((e) => again.push(e));
      for (const m of ms) expect((await restarted.raise(key(m.id), content)).alertId).toBe(a.id);
      expect(again).toEqual([]);
      expect((await db.query("SELECT count(*)::int AS n FROM alerts WHERE subject = $1 AND state <> 'resolved'", [subject])).rows[0].n).toBe(1);
    });

    it('resolves only once the condition cleared for every migration it affects; a cancelled one leaves it open for the others', async () => {
      const alerts = new AlertService({ db, clock });
      const [a] = await alerts.list({ migrationId: ms[0].id, openOnly: true });
      expect(await alerts.resolveAllOf(ms[0].id, null, 'migration cancelled')).toEqual([]);
      expect((await alerts.get(a.id))!.state).toBe('open');
      expect((await alerts.get(a.id))!.history.map((h) => h.event)).toEqual(['opened', 'joined', 'joined', 'left']);
      expect(await alerts.resolveExcept(ms[1].id, 'job-health', [])).toEqual([]);
      expect((await alerts.get(a.id))!.state).toBe('open');
      expect(await alerts.resolveExcept(ms[2].id, 'job-health', [])).toEqual([a.id]);
      const done = (await alerts.get(a.id))!;
      expect([done.state, done.resolvedBy]).toEqual(['resolved', null]);
      expect(done.history.at(-1)).toMatchObject({ event: 'resolved' });
      for (const m of ms)
        expect(
          (
            await db.query("SELECT count(*)::int AS n FROM audit WHERE migration_id = $1 AND action = 'alert-resolved' AND details->>'alertId' = $2", [
              m.id,
              a.id,
            ])
          ).rows[0].n,
        ).toBe(1);
    });

    it('who may act: an owner of any affected migration; nobody else (the reason names them all)', async () => {
      const alerts = new AlertService({ db, clock });
      alerts.setResponders(alertResponders({ isOwner: async (migrationId, oid) => oid === `owner-${ms.findIndex((m) => m.id === migrationId)}` }));
      const { alertId } = await alerts.raise(key(ms[1].id), content);
      await alerts.raise(key(ms[2].id), content);
      const a = (await alerts.get(alertId))!;
      expect(await alerts.act(alertId, 'ack', { oid: 'someone-else', name: 'Pat' }, a.version)).toEqual({
        changed: false,
        notice: 'Only the change owners of Incident B or Incident C can acknowledge, snooze or resolve its alerts. Nothing was changed.',
      });
      expect(await alerts.act(alertId, 'ack', { oid: 'owner-2', name: 'Owner C' }, a.version)).toEqual({ changed: true });
      expect((await alerts.get(alertId))!.history.at(-1)).toMatchObject({ event: 'acknowledged', by: 'Owner C' });
    });
  });
}

suite('PGlite', () => openPglite(null));
const PG = process.env.TEST_DATABASE_URL;
suite('PostgreSQL', () => openPostgres(PG!), !PG);
