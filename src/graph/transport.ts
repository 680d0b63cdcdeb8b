import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import pRetry from 'p-retry';
import {
  Client,
  HTTPMessageHandler,
  ResponseType,
  RetryHandler,
  RetryHandlerOptions,
  type AuthenticationProvider,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import type { Logger } from '../log.js';
import { noTracer, pathTemplate, type Tracer } from '../telemetry/tracer.js';
import { GraphError } from './errors.js';
import { DEFAULTS, createAuthProvider, type GraphSettings } from './settings.js';

export type GraphVersion = 'v1.0' | 'beta';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface GraphResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  requestId: string | undefined;
  clientRequestId: string;
}

export interface TransportStats {
  /** HTTP attempts that reached the network, retries included. */
  httpRequests: number;
  /** Attempts answered 429/503/504 (each one retried by the RetryHandler while the bound allows). */
  throttled: number;
  /** Operations that ended in a GraphError. */
  failures: number;
}

const IDEMPOTENT = new Set<HttpMethod>(['GET', 'PUT', 'DELETE']);
const CONNECTION_DROPPED = 'ConnectionDropped';

/** fetch's network failures are a TypeError whose cause says what happened (ECONNRESET, UND_ERR_SOCKET…). */
function causeOf(e: unknown): string {
  const c = (e as any)?.cause;
  return c ? [c.code, c.message].filter(Boolean).join(' ') : '';
}

function isConnectionDrop(e: unknown): boolean {
  return e instanceof TypeError && /ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|other side closed/i.test(causeOf(e));
}

// One in-flight bound per tenant for the whole process: two runbooks on one tenant share it.
const tenantQueues = new Map<string, PQueue>();
function tenantQueue(settings: GraphSettings): PQueue {
  const key = `${new URL(settings.baseUrl).origin}|${settings.tenantId.toLowerCase()}`;
  let q = tenantQueues.get(key);
  if (!q) {
    q = new PQueue({ concurrency: settings.maxConcurrency ?? DEFAULTS.maxConcurrency });
    tenantQueues.set(key, q);
  }
  return q;
}

function headerOf(context: Context, name: string): string | undefined {
  const h = context.options?.headers as Record<string, string> | Headers | undefined;
  if (!h) return undefined;
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const k = Object.keys(h).find((x) => x.toLowerCase() === name);
  return k ? h[k] : undefined;
}

/** Holds a tenant slot for the whole request, Retry-After waits included, so throttling slows everyone down. */
class ConcurrencyMiddleware implements Middleware {
  #next!: Middleware;
  constructor(private readonly queue: PQueue) {}
  async execute(context: Context): Promise<void> {
    await this.queue.add(() => this.#next.execute(context));
  }
  setNext(next: Middleware): void {
    this.#next = next;
  }
}

/**
 * Attaches the bearer token to requests for the configured Graph origin only. The SDK's own
 * AuthenticationHandler does the same but only over https, and the sandbox simulator is plain http
 * on loopback; plain http is therefore allowed for loopback hosts and nothing else.
 */
class BearerMiddleware implements Middleware {
  #next!: Middleware;
  constructor(
    private readonly origin: string,
    private readonly provider: AuthenticationProvider,
  ) {
    const u = new URL(origin);
    if (u.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
      throw new Error(`Graph base URL must be https (plain http only for loopback): ${origin}`);
    }
  }
  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const headers = (context.options ??= {}).headers as Record<string, string> | undefined;
    if (new URL(url).origin === this.origin) {
      const token = await this.provider.getAccessToken();
      context.options.headers = { ...(headers ?? {}), Authorization: `Bearer ${token}` };
    } else if (headers) {
      delete headers.Authorization;
    }
    await this.#next.execute(context);
  }
  setNext(next: Middleware): void {
    this.#next = next;
  }
}

/** Sits under the RetryHandler: sees every attempt, so throttling is counted and logged per attempt. */
class AttemptObserver implements Middleware {
  #next!: Middleware;
  constructor(
    private readonly stats: TransportStats,
    private readonly log: Logger,
  ) {}
  async execute(context: Context): Promise<void> {
    this.stats.httpRequests++;
    try {
      await this.#next.execute(context);
    } catch (e) {
      // The SDK keeps only an error's name and message: name what happened so it survives the wrapping.
      if (isConnectionDrop(e)) throw Object.assign(new Error(`connection dropped before an answer (${causeOf(e)})`), { name: CONNECTION_DROPPED });
      throw e;
    }
    const res = context.response;
    if (res && (res.status === 429 || res.status === 503 || res.status === 504)) {
      this.stats.throttled++;
      this.log.warn(
        {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          attempt: headerOf(context, 'retry-attempt') ?? '0',
          requestId: res.headers.get('request-id'),
          clientRequestId: headerOf(context, 'client-request-id'),
        },
        'graph throttled or unavailable',
      );
    }
  }
  setNext(next: Middleware): void {
    this.#next = next;
  }
}

/**
 * The HTTP layer: the real msgraph client with a custom middleware chain
 * (tenant concurrency → auth → RetryHandler → attempt observer → fetch). Responses are taken RAW so
 * the status, request-id and Graph's error body reach GraphError unaltered.
 */
export class GraphTransport {
  readonly stats: TransportStats = { httpRequests: 0, throttled: 0, failures: 0 };
  readonly #client: Client;
  readonly #origin: string;

  constructor(
    readonly settings: GraphSettings,
    private readonly log: Logger,
    /** One span per request: method, path template (no ids), status, request-id and client-request-id. */
    private readonly tracer: Tracer = noTracer,
  ) {
    const url = new URL(settings.baseUrl);
    this.#origin = url.origin;
    const retry = new RetryHandlerOptions(settings.retryDelaySeconds ?? DEFAULTS.retryDelaySeconds, settings.maxRetries ?? DEFAULTS.maxRetries);
    this.#client = Client.initWithMiddleware({
      baseUrl: this.#origin,
      defaultVersion: 'v1.0',
      customHosts: new Set([url.hostname]),
      middleware: [
        new ConcurrencyMiddleware(tenantQueue(settings)),
        new BearerMiddleware(this.#origin, createAuthProvider(settings)),
        new RetryHandler(retry),
        new AttemptObserver(this.stats, log),
        new HTTPMessageHandler(),
      ],
    });
  }

  /** Turns an @odata.nextLink / deltaLink into (version, relative path), refusing links to another host. */
  splitLink(link: string): { version: GraphVersion; path: string } {
    const u = new URL(link);
    if (u.origin !== this.#origin) throw new Error(`refusing to follow a link to another host: ${u.origin}`);
    const m = /^\/(v1\.0|beta)(\/.*)$/.exec(u.pathname);
    if (!m) throw new Error(`not a Graph link: ${link}`);
    return { version: m[1] as GraphVersion, path: m[2] + u.search };
  }

  async request<T = any>(
    method: HttpMethod,
    path: string,
    opts: { version?: GraphVersion; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<GraphResponse<T>> {
    const version = opts.version ?? 'v1.0';
    const clientRequestId = randomUUID();
    return this.tracer.inSpan(
      `graph ${method}`,
      {
        'http.request.method': method,
        'url.template': `/${version}${pathTemplate(path)}`,
        'cutover.graph.client_request_id': clientRequestId,
        'cutover.tenant.id': this.settings.tenantId,
      },
      async (span) => {
        try {
          const r = await this.#request<T>(method, path, version, clientRequestId, opts);
          span.set({ 'http.response.status_code': r.status, 'cutover.graph.request_id': r.requestId });
          return r;
        } catch (e) {
          if (e instanceof GraphError) span.set({ 'http.response.status_code': e.status, 'cutover.graph.request_id': e.requestId });
          throw e;
        }
      },
      { kind: 'client' },
    );
  }

  async #request<T>(
    method: HttpMethod,
    path: string,
    version: GraphVersion,
    clientRequestId: string,
    opts: { body?: unknown; headers?: Record<string, string> },
  ): Promise<GraphResponse<T>> {
    let req = this.#client.api(path).version(version).header('client-request-id', clientRequestId).responseType(ResponseType.RAW);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req = req.header(k, v);
    let res: Response;
    const send = async (): Promise<Response> => {
      switch (method) {
        case 'GET':
          return req.get();
        case 'POST':
          return req.post(opts.body ?? {});
        case 'PUT':
          return req.put(opts.body ?? {});
        case 'PATCH':
          return req.patch(opts.body ?? {});
        case 'DELETE':
          return req.delete();
      }
    };
    try {
      // A connection dropped before any answer (a reset, a kept-alive socket closed by the server as we reused it)
      // is tried again for idempotent methods only: a POST may have been carried out, so it surfaces instead.
      res = IDEMPOTENT.has(method)
        ? await pRetry(send, {
            retries: 2,
            minTimeout: 200,
            shouldRetry: ({ error }) => (error as any).code === CONNECTION_DROPPED,
            onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
              void (
                retriesLeft > 0 &&
                (error as any).code === CONNECTION_DROPPED &&
                this.log.warn({ method, path: `/${version}${path}`, attempt: attemptNumber, err: error.message }, 'graph connection dropped; trying again')
              ),
          })
        : await send();
    } catch (e) {
      // Network-level failure (connection refused, DNS, auth provider): no response, so no request-id.
      this.stats.failures++;
      const err = new GraphError({
        status: 0,
        code: (e as any)?.code ?? (e as any)?.name ?? 'NetworkError',
        message: (e as Error)?.message ?? String(e),
        clientRequestId,
        method,
        path: `/${version}${path}`,
      });
      this.log.error({ err: err.toJSON() }, 'graph request failed without a response');
      throw err;
    }
    const requestId = res.headers.get('request-id') ?? undefined;
    const text = res.status === 204 ? '' : await res.text();
    let body: any = undefined;
    if (text) {
      const type = res.headers.get('content-type') ?? '';
      if (type.includes('json')) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      } else body = text;
    }
    if (!res.ok) {
      this.stats.failures++;
      const e = body && typeof body === 'object' ? body.error : undefined;
      const ra = Number(res.headers.get('retry-after'));
      const err = new GraphError({
        status: res.status,
        code: typeof e?.code === 'string' ? e.code : `HTTP${res.status}`,
        message: typeof e?.message === 'string' ? e.message : (typeof body === 'string' && body) || res.statusText,
        requestId: requestId ?? e?.innerError?.['request-id'],
        clientRequestId,
        method,
        path: `/${version}${path}`,
        retryAfterSeconds: Number.isFinite(ra) && ra > 0 ? ra : undefined,
      });
      this.log.warn({ err: err.toJSON() }, 'graph request failed');
      throw err;
    }
    return { status: res.status, body: body as T, headers: res.headers, requestId, clientRequestId };
  }
}
