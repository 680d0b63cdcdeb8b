import type { IncomingMessage } from 'node:http';
import type { AccessTokenClaims } from '../../../graph/permissions.js';
import type { SimHost, SimJob, SimServicePrincipal } from '../model.js';
import { HttpError } from '../odata.js';

/** One request as a handler sees it, after version, token, faults and permissions have been dealt with. */
export interface GraphRequest {
  readonly sim: SimHost;
  readonly method: string;
  readonly version: 'v1.0' | 'beta';
  /** The path after the version, split on '/' and decoded (empty segments dropped). */
  readonly segments: string[];
  /** The pattern's {name} segments. */
  readonly params: Record<string, string>;
  /** What a trailing {...rest} took (zero or more segments). */
  readonly rest: string[];
  readonly url: URL;
  readonly query: URLSearchParams;
  /** For headers (ConsistencyLevel, Prefer). */
  readonly req: IncomingMessage;
  readonly body: any;
  readonly caller: AccessTokenClaims;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  /** An HTTP method, or '*' for any. */
  method: string;
  /** A path template after the version: '/users/{id}'; a last segment {...rest} takes zero or more segments. */
  pattern: string;
  /** The stats.byRoute key it counts under (tests and benches read these); null for routes that only ever throw. */
  stat: string | ((r: GraphRequest) => string) | null;
  handler: (r: GraphRequest) => Reply;
}

/** Where Cloud Sync's synchronization API hangs, and one of its jobs. */
export const SYNC = '/servicePrincipals/{spId}/synchronization';
export const JOB = `${SYNC}/jobs/{jobId}`;

export const ok = (body: unknown, status = 200): Reply => ({ status, body });
export const noContent = (): Reply => ({ status: 204 });

/** An absolute @odata.context, as Graph returns it. */
export function odataContext(r: GraphRequest, fragment: string): string {
  return `${r.sim.baseUrl}/${r.version}/$metadata#${fragment}`;
}

/** An absolute link to `path` with `params` (nextLink). */
export function link(r: GraphRequest, path: string, params: URLSearchParams): string {
  const qs = [...params.entries()].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${r.sim.baseUrl}/${r.version}${path}${qs ? `?${qs}` : ''}`;
}

/** What the directory endpoints answer for an id they do not hold. */
export function resourceNotFound(id: string | undefined): HttpError {
  return new HttpError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

/** What Graph's directory front end answers for a path it does not serve. */
export function notFoundSegment(r: GraphRequest): HttpError {
  return new HttpError(400, 'BadRequest', `Resource not found for the segment '${r.segments[r.segments.length - 1] ?? ''}'.`);
}

/** What the synchronization back end answers for a path or method it does not serve. */
export function noResource(r: GraphRequest): HttpError {
  return new HttpError(404, 'NotFound', `No HTTP resource was found that matches the request URI '${r.sim.baseUrl}${r.url.pathname}${r.url.search}'.`);
}

/** The service principal a /servicePrincipals/{spId}/… path names; 404 before anything else is looked at. */
export function servicePrincipal(r: GraphRequest): SimServicePrincipal {
  return findServicePrincipal(r, r.params.spId);
}

export function findServicePrincipal(r: GraphRequest, id: string | undefined): SimServicePrincipal {
  const sp = r.sim.sps.get(id ?? '');
  if (!sp) throw resourceNotFound(id);
  return sp;
}

/** The synchronization job a …/jobs/{jobId}/… path names, under its service principal (checked first). */
export function syncJob(r: GraphRequest): { sp: SimServicePrincipal; job: SimJob } {
  const sp = servicePrincipal(r);
  const job = sp.jobs.get(r.params.jobId);
  if (!job) throw new HttpError(404, 'NotFound', `The synchronization job '${r.params.jobId}' was not found.`);
  return { sp, job };
}

type Matcher = (segments: string[]) => { params: Record<string, string>; rest: string[] } | undefined;

function compile(pattern: string): Matcher {
  const parts = pattern.split('/').filter(Boolean);
  const restName = /^\{\.\.\.\w+\}$/.test(parts[parts.length - 1] ?? '');
  const fixed = restName ? parts.slice(0, -1) : parts;
  const names = fixed.map((p) => /^\{(\w+)\}$/.exec(p)?.[1]);
  return (segments) => {
    if (restName ? segments.length < fixed.length : segments.length !== fixed.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < fixed.length; i++) {
      const name = names[i];
      if (name) params[name] = segments[i];
      else if (fixed[i] !== segments[i]) return undefined;
    }
    return { params, rest: segments.slice(fixed.length) };
  };
}

/**
 * A route table, matched in order: the first route whose method and pattern fit serves the request. Put the literal
 * segments ('/users/delta') before the templates they would also fit ('/users/{id}').
 */
export function routeTable(routes: Route[]): (r: Omit<GraphRequest, 'params' | 'rest'>) => { reply: Reply; stat: string } {
  const compiled = routes.map((route) => ({ route, match: compile(route.pattern) }));
  return (base) => {
    for (const { route, match } of compiled) {
      if (route.method !== '*' && route.method !== base.method) continue;
      const m = match(base.segments);
      if (!m) continue;
      const r: GraphRequest = { ...base, ...m };
      const reply = route.handler(r);
      // A route with a null stat only throws, so it never gets here.
      const stat = typeof route.stat === 'function' ? route.stat(r) : (route.stat ?? '');
      return { reply, stat };
    }
    // The routes end with a catch-all (routes/notFound.ts); reaching here is a bug in the table.
    throw new Error(`no route for ${base.method} /${base.segments.join('/')}`);
  };
}
