/**
 * The tracing seam the rooms use (bot HTTP, engine, Graph, runner hub): a tiny interface with no OpenTelemetry
 * import, so tracing stays optional and in one room (src/telemetry/). With tracing off it is `noTracer`.
 * Attributes are identifiers only (ids, keys, methods, path templates, statuses): never message text, tokens or secrets.
 */
export type SpanAttributes = Record<string, string | number | boolean | null | undefined>;

export interface TraceSpan {
  set(attrs: SpanAttributes): void;
  /** Marks the span failed with the error's code or name (not its message: it may carry user text). */
  fail(err: unknown): void;
  end(): void;
}

export interface Tracer {
  /** Runs fn in a new span, a child of the current one; the span ends when fn settles (a throw marks it failed). */
  inSpan<T>(
    name: string,
    attrs: SpanAttributes,
    fn: (span: TraceSpan) => Promise<T>,
    opts?: { kind?: 'server' | 'client' | 'internal' | 'producer' },
  ): Promise<T>;
  /** A span that outlives the call (e.g. a runner job, from queued to settled): a child of the current span; the caller ends it. */
  start(name: string, attrs: SpanAttributes, opts?: { kind?: 'server' | 'client' | 'internal' | 'producer' }): TraceSpan;
}

const noSpan: TraceSpan = { set() {}, fail() {}, end() {} };

export const noTracer: Tracer = {
  inSpan: (_name, _attrs, fn) => fn(noSpan),
  start: () => noSpan,
};

/** `/servicePrincipals/8f0c…/synchronization/jobs/AD2AAD.1a2b…/start?$x=…` → `/servicePrincipals/{id}/synchronization/jobs/{id}/start` */
export function pathTemplate(path: string): string {
  const bare = path.split('?')[0];
  return bare
    .split('/')
    .map((seg) => (seg === '' || /^\$?[A-Za-z][A-Za-z.]*$/.test(seg) || /^v1\.0$/.test(seg) ? seg : '{id}'))
    .join('/');
}
