/** OData helpers the simulator shares: errors, tokens, $select, $filter (the subset Graph accepts here). */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function encodeToken(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

export function decodeToken<T>(s: string, what: string): T {
  try {
    return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as T;
  } catch {
    throw new HttpError(400, 'Request_BadRequest', `Invalid ${what}.`);
  }
}

/** Graph: $top must be 1..999 for directory objects. */
export function parseTop(v: string | null, dflt: number, max = 999): number {
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new HttpError(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${v}'. Must be between 1 and ${max} inclusive.`);
  }
  return n;
}

export function parseSelect(v: string | null): string[] | null {
  if (!v) return null;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function applySelect(props: Record<string, unknown>, select: string[] | null, defaults: string[]): Record<string, unknown> {
  const keys = select ?? defaults;
  const out: Record<string, unknown> = { id: props.id };
  for (const k of keys) {
    if (k === 'id') continue;
    out[k] = k in props ? props[k] : null;
  }
  return out;
}

export type Predicate = (props: Record<string, unknown>) => boolean;

/**
 * `$filter` as a conjunction of `prop eq literal` clauses (literals: true, false, null, 'string').
 * Anything else is refused as Graph refuses unsupported clauses.
 */
export function parseFilter(v: string | null, allowed: string[], resource: string): Predicate {
  if (!v) return () => true;
  const clauses = v.split(/\s+and\s+/i);
  const tests: Predicate[] = [];
  for (const c of clauses) {
    const m = /^\s*([A-Za-z][\w/]*)\s+eq\s+(true|false|null|'((?:[^']|'')*)')\s*$/.exec(c);
    if (!m || !allowed.includes(m[1])) {
      const prop = m?.[1] ?? c.trim().split(/\s+/)[0];
      throw new HttpError(
        400,
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for property '${prop}' of resource '${resource}'.`,
      );
    }
    const path = m[1].split('/');
    const literal = m[2] === 'true' ? true : m[2] === 'false' ? false : m[2] === 'null' ? null : m[3].replace(/''/g, "'");
    tests.push((p) => {
      let cur: any = p;
      for (const seg of path) cur = cur?.[seg];
      if (literal === null) return cur === null || cur === undefined;
      // Graph string equality on directory properties is case-insensitive; status filters too.
      if (typeof literal === 'string' && typeof cur === 'string') return cur.toLowerCase() === literal.toLowerCase();
      return cur === literal;
    });
  }
  return (p) => tests.every((t) => t(p));
}
