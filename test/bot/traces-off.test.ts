import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Harness, USERS } from '../helpers/harness.js';
import { loadSettings } from '../../src/config.js';

/** Traces are optional by setting: without OTEL_EXPORTER_OTLP_ENDPOINT or APPLICATIONINSIGHTS_CONNECTION_STRING nothing is started. */
describe('traces are off without a setting', () => {
  it('starts nothing and loads no OpenTelemetry module (no exporter, no network)', async () => {
    const h = await Harness.start();
    try {
      expect(h.app.telemetry.kind).toBe('off');
      const r = await h.say(USERS.alex, 'help');
      expect(r.status).toBe(200);
      const loaded = Object.keys(createRequire(import.meta.url).cache ?? {});
      expect(loaded.filter((p) => /@opentelemetry[\\/](sdk-trace|exporter-trace|resources)|monitor-opentelemetry/.test(p))).toEqual([]);
    } finally {
      await h.stop();
    }
  });

  it('names a malformed setting in one line', () => {
    expect(() => loadSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toThrow(/^Setting OTEL_EXPORTER_OTLP_ENDPOINT is not an http\(s\) URL/);
    const secretish = 'InstrumentationKey=not-a-guid;IngestionEndpoint=https://x';
    let msg = '';
    try {
      loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: secretish });
    } catch (e: any) {
      msg = e.message;
    }
    expect(msg).toMatch(/^Setting APPLICATIONINSIGHTS_CONNECTION_STRING is not an Application Insights connection string/);
    expect(msg).not.toContain('not-a-guid');
    expect(msg.split('\n')).toHaveLength(1);
  });
});
