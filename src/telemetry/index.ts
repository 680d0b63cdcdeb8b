import type { Logger } from '../log.js';
import { noTracer, type SpanAttributes, type TraceSpan, type Tracer } from './tracer.js';

export { noTracer, pathTemplate, type Tracer, type TraceSpan, type SpanAttributes } from './tracer.js';

/**
 * Traces, optional by setting. Off unless OTEL_EXPORTER_OTLP_ENDPOINT (an OTLP/HTTP collector) or
 * APPLICATIONINSIGHTS_CONNECTION_STRING (Azure Monitor) is set; off, no OpenTelemetry module is even loaded.
 * Started by the composition root (src/app.ts) only; the rooms see the Tracer interface.
 */
export interface Telemetry {
  kind: 'off' | 'otlp' | 'azure-monitor' | 'azure-monitor+otlp';
  tracer: Tracer;
  /** Exports the spans that have ended (tests; graceful shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TelemetrySettings {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  APPLICATIONINSIGHTS_CONNECTION_STRING?: string;
}

export const telemetryOff: Telemetry = { kind: 'off', tracer: noTracer, flush: async () => {}, shutdown: async () => {} };

/** The OTLP/HTTP traces URL from the standard base endpoint: `<endpoint>/v1/traces`. */
export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

export async function startTelemetry(settings: TelemetrySettings, opts: { log: Logger; serviceVersion?: string; instanceId?: string }): Promise<Telemetry> {
  const endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT;
  const connectionString = settings.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (!endpoint && !connectionString) return telemetryOff;

  const api = await import('@opentelemetry/api');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { BatchSpanProcessor, NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const resource = resourceFromAttributes({
    'service.name': 'cutover',
    'service.version': opts.serviceVersion ?? '0.0.0',
    ...(opts.instanceId ? { 'service.instance.id': opts.instanceId } : {}),
  });
  const processors: import('@opentelemetry/sdk-trace-node').SpanProcessor[] = [];
  if (endpoint) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(endpoint) })));
  }

  let flush: () => Promise<void>;
  let shutdown: () => Promise<void>;
  let kind: Telemetry['kind'];
  if (connectionString) {
    const monitor = await import('@azure/monitor-opentelemetry');
    monitor.useAzureMonitor({ azureMonitorExporterOptions: { connectionString }, resource, spanProcessors: processors, enableLiveMetrics: false });
    // The SDK's provider is registered globally behind the API's proxy.
    flush = async () => void (await (api.trace.getTracerProvider() as any).getDelegate?.()?.forceFlush?.());
    shutdown = () => monitor.shutdownAzureMonitor();
    kind = endpoint ? 'azure-monitor+otlp' : 'azure-monitor';
  } else {
    const provider = new NodeTracerProvider({ resource, spanProcessors: processors });
    provider.register(); // the AsyncLocalStorage context manager: spans started inside a span are its children
    flush = () => provider.forceFlush();
    shutdown = async () => {
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    };
    kind = 'otlp';
  }
  opts.log.info({ traces: kind, otlpEndpoint: endpoint ? new URL(endpoint).origin : undefined }, 'tracing on');

  const tracer = api.trace.getTracer('cutover', opts.serviceVersion);
  const kinds = { server: api.SpanKind.SERVER, client: api.SpanKind.CLIENT, internal: api.SpanKind.INTERNAL, producer: api.SpanKind.PRODUCER };
  const clean = (attrs: SpanAttributes) =>
    Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined && v !== null)) as Record<string, string | number | boolean>;
  const wrap = (span: import('@opentelemetry/api').Span): TraceSpan => ({
    set: (attrs) => void span.setAttributes(clean(attrs)),
    fail: (err: any) => {
      const type = String(err?.code ?? err?.name ?? 'Error');
      span.setAttribute('error.type', type);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: type });
    },
    end: () => span.end(),
  });
  const adapter: Tracer = {
    inSpan(name, attrs, fn, o) {
      return tracer.startActiveSpan(name, { kind: kinds[o?.kind ?? 'internal'], attributes: clean(attrs) }, async (span) => {
        const s = wrap(span);
        try {
          return await fn(s);
        } catch (err) {
          s.fail(err);
          throw err;
        } finally {
          span.end();
        }
      });
    },
    start(name, attrs, o) {
      return wrap(tracer.startSpan(name, { kind: kinds[o?.kind ?? 'internal'], attributes: clean(attrs) }));
    },
  };
  return { kind, tracer: adapter, flush, shutdown };
}
