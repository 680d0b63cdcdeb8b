import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS, PILOT_OU, cardText, buttons } from '../helpers/harness.js';
import { AlertService } from '../../src/monitor/alerts.js';
import { runCloudSync } from './helpers.js';

/** The monitor speaks in the migration's channel: once per incident, updated in place, resolved when it clears. */
describe('monitor and alerts', () => {
  let h: Harness;
  let migrationId = '';
  // Cards posted (a new incident's card is followed by a message mentioning the owners: not a card).
  const alertPosts = (title: string) =>
    h.connector.sent.filter((s) => s.method === 'POST' && s.activity.attachments?.length && cardText(s.activity).includes(title));

  beforeAll(async () => {
    h = await Harness.start();
    migrationId = await h.newPilot();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('raises nothing about Cloud Sync before it is configured', async () => {
    const report = await h.monitorRun();
    expect(report.errors).toEqual([]);
    expect(report.findings.filter((f: any) => ['job-health', 'ou-count'].includes(f.check))).toEqual([]);
  });

  it('is quiet when the pilot is configured and in step', async () => {
    await runCloudSync(h, migrationId);
    h.app.tenant!.tick();
    const report = await h.monitorRun();
    expect(report.errors).toEqual([]);
    expect(report.findings.filter((f: any) => f.severity !== 'info')).toEqual([]);
  });

  it('posts a quarantine alert once per incident, with the cause and the remedy', async () => {
    const f = await h.fault({ kind: 'quarantine', reason: 'EncounteredBaseEscrowThreshold' });
    expect(f.status).toBe(200);
    await h.monitorRun();
    const post = await h.connector.waitFor(() => alertPosts('quarantined')[0], 30_000, 'the alert card');
    const text = cardText(post.activity);
    expect(text).toContain('EncounteredBaseEscrowThreshold');
    expect(text).toContain('What to do');
    expect(text).toContain('Watermark, Escrows, QuarantineState');
    // More cycles with the same condition: no second card.
    await h.monitorRun();
    await h.monitorRun();
    expect(alertPosts('quarantined')).toHaveLength(1);
    const open = await h.app.alerts.list({ openOnly: true });
    expect(open.filter((a) => a.check === 'job-health')).toHaveLength(1);
  });

  it('lets people acknowledge from the card, shows who did, and audits it', async () => {
    const alert = (await h.app.alerts.list({ openOnly: true })).find((a) => a.check === 'job-health')!;
    const r = await h.click(USERS.megan, 'alert.ack', { alert: alert.id, v: alert.version });
    expect(cardText(r.card)).toContain('Acknowledged by Megan Bowen');
    await h.connector.waitFor(
      () => cardText(h.connector.messages.get(alert.activityId!)).includes('Acknowledged by Megan Bowen') || undefined,
      30_000,
      'the shared alert card update',
    );
    const stale = await h.click(USERS.alex, 'alert.ack', { alert: alert.id, v: alert.version });
    expect(cardText(stale.card)).toContain('out of date');
    const audit = await h.app.engine.auditTrail(migrationId);
    expect(audit.some((a) => a.action === 'alert-acknowledged' && a.actorOid === USERS.megan.aadObjectId)).toBe(true);
    // `alerts` in chat lists it with its age
    const n = h.connector.sent.length;
    await h.say(USERS.alex, 'alerts');
    const list = await h.connector.waitFor(() => h.connector.sent.slice(n).find((s) => cardText(s.activity).includes('Open alerts')));
    expect(cardText(list.activity)).toContain('quarantined');
    expect(cardText(list.activity)).toContain('acknowledged');
  });

  it('resolves the alert when the job leaves quarantine, updating the card and replying in the thread', async () => {
    const alert = (await h.app.alerts.list({ openOnly: true })).find((a) => a.check === 'job-health')!;
    const g = h.app.tenant!.graph;
    const job = g.summary().jobs.find((j) => j.templateId === 'AD2AADProvisioning')!;
    // The remedy an admin would run: restart clearing the quarantine.
    const res = await fetch(`${g.baseUrl}/beta/servicePrincipals/${job.servicePrincipalId}/synchronization/jobs/${encodeURIComponent(job.jobId)}/restart`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.graphToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ criteria: { resetScope: 'Watermark, Escrows, QuarantineState' } }),
    });
    expect(res.status).toBe(204);
    h.app.tenant!.tick();
    await h.monitorRun();
    expect((await h.app.alerts.get(alert.id))!.state).toBe('resolved');
    // The card's own text mentions "Resolved by hand…" while open: wait for the resolved card itself (no buttons left to act on).
    await h.connector.waitFor(() => !buttons(h.connector.messages.get(alert.activityId!)).includes('Acknowledge') || undefined, 30_000, 'the resolved card');
    expect(cardText(h.connector.messages.get(alert.activityId!))).toMatch(/Resolved/);
    await h.connector.waitFor(
      () => h.connector.sent.find((s) => typeof s.activity.text === 'string' && s.activity.text.startsWith('Resolved:')),
      30_000,
      'the thread reply',
    );
  });

  it('alerts at once on a count mismatch after steady state, and resolves when Cloud Sync repairs it', async () => {
    const f = await h.fault({ kind: 'count-drift', ou: PILOT_OU, missing: 3 });
    expect(f.body.applied.removedFromEntra).toBe(3);
    await h.monitorRun();
    const post = await h.connector.waitFor(() => alertPosts('User count mismatch')[0], 30_000, 'the count alert');
    expect(cardText(post.activity)).toContain('Active Directory has 40 users');
    expect(cardText(post.activity)).toContain('Entra ID has 37');
    h.app.tenant!.tick(); // Cloud Sync's next cycle provisions them again
    await h.monitorRun();
    const a = (await h.app.alerts.list({ openOnly: false })).find((x) => x.check === 'ou-count')!;
    expect(a.state).toBe('resolved');
  });

  it('keeps one open incident per key across processes and restarts (the store is the truth)', async () => {
    const other = new AlertService({ db: h.app.db, clock: h.clock }); // a second process, or this one after a restart
    const key = { migrationId, tenantId: 't', conversationId: null, check: 'runner', scope: 'r1' };
    const content = { severity: 'critical' as const, title: 'Runner r1 is down', summary: 's', facts: [] };
    const a = await h.app.alerts.raise(key, content);
    const b = await other.raise(key, content);
    expect(a.opened).toBe(true);
    expect(b.opened).toBe(false);
    expect(b.alertId).toBe(a.alertId);
    await other.resolveExcept(migrationId, 'runner', []);
    const c = await h.app.alerts.raise(key, content);
    expect(c.opened).toBe(true); // a new incident after resolution
    expect(c.alertId).not.toBe(a.alertId);
  });

  it('snoozes and wakes under an injected clock', async () => {
    const key = { migrationId, tenantId: 't', conversationId: null, check: 'agents', scope: 'inactive' };
    const { alertId } = await h.app.alerts.raise(key, { severity: 'warning', title: 'Agent inactive', summary: 's', facts: [] });
    const v = (await h.app.alerts.get(alertId))!.version;
    expect((await h.app.alerts.act(alertId, 'snooze', { oid: USERS.megan.aadObjectId, name: 'Megan Bowen' }, v, 1)).changed).toBe(true);
    expect((await h.app.alerts.get(alertId))!.state).toBe('snoozed');
    h.clock.advance(59 * 60_000);
    expect(await h.app.alerts.wakeSnoozed()).toEqual([]);
    h.clock.advance(2 * 60_000);
    expect(await h.app.alerts.wakeSnoozed()).toEqual([alertId]);
    expect((await h.app.alerts.get(alertId))!.state).toBe('open');
  });
});
