import { decodeToken, encodeToken, HttpError, parseFilter, parseTop, type Predicate } from '../odata.js';
import { link, odataContext, ok, type GraphRequest, type Route } from './route.js';

// GET /auditLogs/provisioning: the provisioning log, newest first, filtered and paged as documented.

export const auditLogRoutes: Route[] = [
  { method: 'GET', pattern: '/auditLogs/provisioning', stat: 'GET /auditLogs/provisioning', handler: (r) => ok(auditLogs(r)) },
];

function auditLogs(r: GraphRequest): unknown {
  const q = r.query;
  const top = parseTop(q.get('$top'), 50, 500);
  const filter = parseLogFilter(q.get('$filter'));
  const skip = q.get('$skiptoken');
  const offset = skip ? decodeToken<{ o: number }>(skip, 'skip token').o : 0;
  const matching = r.sim.logs.filter((l) => filter(l)).reverse(); // newest first
  const value = matching.slice(offset, offset + top);
  const out: Record<string, unknown> = { '@odata.context': odataContext(r, 'auditLogs/provisioning') };
  // "You must pass the top filter in the query to generate the token" (provisioningobjectsummary-list).
  if (q.has('$top') && offset + top < matching.length) {
    const params = new URLSearchParams(q);
    params.set('$skiptoken', encodeToken({ o: offset + top }));
    out['@odata.nextLink'] = link(r, '/auditLogs/provisioning', params);
  }
  out.value = value;
  return out;
}

/**
 * $filter on auditLogs/provisioning as documented (provisioningobjectsummary-list, v1.0): `eq` on jobId, cycleId,
 * changeId, provisioningAction, provisioningStatusInfo/status, sourceIdentity/id, targetIdentity/id, servicePrincipal/id…;
 * activityDateTime with eq, gt, lt only (no ge/le). Clauses joined with `and`.
 */
function parseLogFilter(v: string | null): Predicate {
  if (!v) return () => true;
  const eqClauses: string[] = [];
  const tests: Predicate[] = [];
  for (const c of v.split(/\s+and\s+/i)) {
    const m = /^\s*activityDateTime\s+(\w+)\s+(\S+)\s*$/.exec(c);
    if (!m) {
      eqClauses.push(c);
      continue;
    }
    const at = Date.parse(m[2]);
    if (!['eq', 'gt', 'lt'].includes(m[1]) || !Number.isFinite(at) || !/^\d{4}-\d\d-\d\dT/.test(m[2])) {
      throw new HttpError(
        400,
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for property 'activityDateTime' of resource 'ProvisioningObjectSummary'.`,
      );
    }
    const op = m[1];
    tests.push((p) => {
      const t = Date.parse(String(p.activityDateTime));
      return op === 'eq' ? t === at : op === 'gt' ? t > at : t < at;
    });
  }
  if (eqClauses.length) {
    tests.push(
      parseFilter(
        eqClauses.join(' and '),
        [
          'id',
          'jobId',
          'cycleId',
          'changeId',
          'tenantId',
          'provisioningStatusInfo/status',
          'provisioningAction',
          'sourceIdentity/id',
          'targetIdentity/id',
          'sourceIdentity/identityType',
          'targetIdentity/identityType',
          'servicePrincipal/id',
        ],
        'ProvisioningObjectSummary',
      ),
    );
  }
  return (p) => tests.every((t) => t(p));
}
