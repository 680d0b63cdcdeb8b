import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, USERS } from '../helpers/harness.js';

/**
 * Traces, optional by setting: with OTEL_EXPORTER_OTLP_ENDPOINT set, cutover exports OTLP/HTTP (JSON) to a collector.
 * The collector here is a plain HTTP server on loopback; a real card invoke goes through the bot, the engine runs the
 * assessment (Graph requests and runner reads), and the spans arrive linked: activity → step run → Graph request /
 * runner job, with identifiers only — no message text, no token.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}
const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue) : undefined;
};

class Collector {
  spans: OtlpSpan[] = [];
  requests: { path: string; contentType: string | undefined }[] = [];
  #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      this.requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] });
      const json = JSON.parse(body.toString('utf8'));
      for (const rs of json.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) this.spans.push(...(ss.spans ?? []));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }
}

describe('OpenTelemetry traces to an OTLP/HTTP collector', () => {
  let collector: Collector;
  let h: Harness;
  const CANARY_TEXT = 'please-never-export-this-message-text';
  const CANARY_TOKEN = 'eyJhbGciOiJub25lIn0.canary-bearer-token.sig';

  beforeAll(async () => {
    collector = new Collector();
    const endpoint = await collector.start();
    h = await Harness.start({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
  });
  afterAll(async () => {
    await h?.stop();
    await collector?.stop();
  });

  it('exports linked spans for an invoke, its step run, its Graph requests and runner jobs, without text or tokens', async () => {
    expect(h.app.telemetry.kind).toBe('otlp');
    const migrationId = await h.newPilot('Traced');
    await h.say(USERS.alex, `status ${CANARY_TEXT}`);
    // A real card invoke (Action.Execute), with a bearer token on the request.
    const activity = h.activity(USERS.alex, {
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', verb: 'step.request', data: await h.stepData(migrationId, 1) }, trigger: 'manual' },
    });
    const r = await h.post(activity, { authorization: `Bearer ${CANARY_TOKEN}` });
    expect(r.status).toBe(200);
    expect((await h.waitForStep(migrationId, 1, ['succeeded', 'failed', 'lost'])).state).toBe('succeeded');
    await h.app.engine.idle(); // the step run's span ends when its action has settled
    await h.app.telemetry.flush();

    expect(collector.requests.length).toBeGreaterThan(0);
    expect(collector.requests.every((q) => q.path === '/v1/traces' && q.contentType?.includes('json'))).toBe(true);
    const spans = collector.spans;

    // One span per inbound activity: id, type, invoke name and verb, conversation.
    const act = spans.find((s) => s.name === 'bot.activity' && attr(s, 'cutover.activity.id') === activity.id)!;
    expect(act).toBeDefined();
    expect(act.kind).toBe(2); // SERVER
    expect(attr(act, 'cutover.activity.type')).toBe('invoke');
    expect(attr(act, 'cutover.activity.name')).toBe('adaptiveCard/action');
    expect(attr(act, 'cutover.activity.verb')).toBe('step.request');
    expect(attr(act, 'cutover.conversation.id')).toBe(activity.conversation.id);
    expect(attr(act, 'http.response.status_code')).toBe(200);

    // The step run it started is its child.
    const run = spans.find(
      (s) => s.name === 'runbook.step.run' && attr(s, 'cutover.migration.id') === migrationId && attr(s, 'cutover.step.key') === 'assessment',
    )!;
    expect(run).toBeDefined();
    expect(run.traceId).toBe(act.traceId);
    expect(run.parentSpanId).toBe(act.spanId);
    expect(attr(run, 'cutover.step.attempt')).toBe(1);
    expect(attr(run, 'cutover.step.state')).toBe('succeeded');

    // Its Graph requests are its children: method, path template, status, request-id, client-request-id.
    const graph = spans.filter((s) => s.name.startsWith('graph ') && s.parentSpanId === run.spanId);
    expect(graph.length).toBeGreaterThan(0);
    for (const g of graph) {
      expect(g.traceId).toBe(run.traceId);
      expect(g.kind).toBe(3); // CLIENT
      expect(attr(g, 'http.request.method')).toMatch(/^(GET|POST|PUT|PATCH|DELETE)$/);
      expect(String(attr(g, 'url.template'))).toMatch(/^\/(v1\.0|beta)\//);
      expect(String(attr(g, 'url.template'))).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-|\?/); // ids and queries are templated away
      expect(attr(g, 'http.response.status_code')).toBeGreaterThanOrEqual(200);
      expect(attr(g, 'cutover.graph.client_request_id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(graph.some((g) => typeof attr(g, 'cutover.graph.request_id') === 'string')).toBe(true);

    // Its runner reads are runner jobs, children too, with job id and action.
    const jobs = spans.filter((s) => s.name === 'runner.job' && s.parentSpanId === run.spanId);
    expect(jobs.length).toBeGreaterThan(0);
    for (const j of jobs) {
      expect(attr(j, 'cutover.job.id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof attr(j, 'cutover.job.action')).toBe('string');
      expect(attr(j, 'cutover.job.state')).toBe('succeeded');
    }

    // Nothing a person wrote, and no token, in any span.
    const all = JSON.stringify(spans);
    expect(all).not.toContain(CANARY_TEXT);
    expect(all).not.toContain('canary-bearer-token');
    expect(all).not.toContain('new migration');
    expect(all).not.toMatch(/Bearer|cutover_[0-9a-f-]{36}_/i);
    expect(spans.filter((s) => s.name === 'bot.activity').every((s) => s.attributes.every((a) => !/text|token|auth/i.test(a.key)))).toBe(true);
  });
});
