import type { EntraKind, EntraObject } from '../entraDirectory.js';
import { applySelect, decodeToken, encodeToken, HttpError, parseFilter, parseSelect, parseTop } from '../odata.js';
import { link, odataContext, ok, resourceNotFound, type GraphRequest, type Route } from './route.js';

// /users and /groups: list, $count, delta, get, and a group's transitive members.

const USER_DEFAULT_SELECT = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
];
const GROUP_DEFAULT_SELECT = ['displayName', 'mail', 'mailNickname', 'proxyAddresses', 'securityEnabled', 'onPremisesSyncEnabled'];

const defaultSelect = (kind: EntraKind) => (kind === 'user' ? USER_DEFAULT_SELECT : GROUP_DEFAULT_SELECT);
const eventual = (r: GraphRequest) => /^eventual$/i.test(String(r.req.headers.consistencylevel ?? ''));

/** The same four routes for users and groups, counted under their own keys. */
function routesFor(kind: EntraKind): Route[] {
  const base = kind === 'user' ? '/users' : '/groups';
  return [
    { method: 'GET', pattern: base, stat: `GET ${base}`, handler: (r) => ok(list(r, kind)) },
    { method: 'GET', pattern: `${base}/$count`, stat: `GET ${base}/$count`, handler: (r) => ok(count(r, kind)) },
    { method: 'GET', pattern: `${base}/delta`, stat: `GET ${base}/delta`, handler: (r) => ok(delta(r, kind)) },
    { method: 'GET', pattern: `${base}/{id}`, stat: `GET ${base}/{id}`, handler: (r) => ok(get(r, kind)) },
  ];
}

export const directoryObjectRoutes: Route[] = [
  ...routesFor('user'),
  ...routesFor('group'),
  { method: 'GET', pattern: '/groups/{id}/transitiveMembers', stat: 'GET /groups/{id}/transitiveMembers', handler: (r) => ok(transitiveMembers(r, undefined)) },
  {
    method: 'GET',
    pattern: '/groups/{id}/transitiveMembers/{cast}',
    stat: (r) => `GET /groups/{id}/transitiveMembers/${r.params.cast}`,
    handler: (r) => ok(transitiveMembers(r, r.params.cast)),
  },
];

function get(r: GraphRequest, kind: EntraKind): unknown {
  const id = r.params.id;
  const o = r.sim.directory.objects.get(id);
  if (!o || o.kind !== kind) throw resourceNotFound(id);
  return { '@odata.context': odataContext(r, `${kind}s/$entity`), ...applySelect(o.props, parseSelect(r.query.get('$select')), defaultSelect(kind)) };
}

function count(r: GraphRequest, kind: EntraKind): string {
  if (!eventual(r)) throw new HttpError(400, 'Request_BadRequest', 'Count is only supported with the ConsistencyLevel: eventual header.');
  const filter = parseFilter(r.query.get('$filter'), ['onPremisesSyncEnabled'], kind === 'user' ? 'User' : 'Group');
  let n = 0;
  for (const o of r.sim.directory.objects.values()) if (o.kind === kind && filter(o.props)) n++;
  return String(n);
}

function list(r: GraphRequest, kind: EntraKind): unknown {
  const q = r.query;
  const { directory } = r.sim;
  const resource = kind === 'user' ? 'User' : 'Group';
  const path = kind === 'user' ? '/users' : '/groups';
  const top = parseTop(q.get('$top'), r.sim.limits.defaultPageSize);
  const select = parseSelect(q.get('$select'));
  const filter = parseFilter(q.get('$filter'), ['onPremisesSyncEnabled', 'userPrincipalName', 'onPremisesImmutableId', 'displayName', 'mail'], resource);
  const wantCount = q.get('$count') === 'true';
  if (wantCount && !eventual(r)) {
    throw new HttpError(400, 'Request_BadRequest', 'Count is only supported with the ConsistencyLevel: eventual header.');
  }
  const skip = q.get('$skiptoken');
  let offset = skip ? decodeToken<{ o: number }>(skip, 'skip token').o : 0;
  const order = directory.order[kind];
  const value: unknown[] = [];
  const matches = (id: string | null): EntraObject | undefined => {
    if (!id) return undefined;
    const o = directory.objects.get(id);
    return o && filter(o.props) ? o : undefined;
  };
  while (offset < order.length && value.length < top) {
    const o = matches(order[offset++]);
    if (o) value.push(applySelect(o.props, select, defaultSelect(kind)));
  }
  // Look ahead so a last full page does not point at an empty one.
  while (offset < order.length && !matches(order[offset])) offset++;
  const out: Record<string, unknown> = { '@odata.context': odataContext(r, path.slice(1)) };
  if (wantCount) {
    let n = 0;
    for (const o of directory.objects.values()) if (o.kind === kind && filter(o.props)) n++;
    out['@odata.count'] = n;
  }
  if (offset < order.length) {
    const params = new URLSearchParams(q);
    params.set('$skiptoken', encodeToken({ o: offset }));
    out['@odata.nextLink'] = link(r, path, params);
  }
  out.value = value;
  return out;
}

/**
 * GET /groups/{id}/transitiveMembers[/microsoft.graph.user|microsoft.graph.group]: every member reached through
 * nested groups, once each, paged at $top (default 100) with @odata.nextLink. An OData cast returns that type only
 * (no @odata.type on items, as Graph's cast responses show); without one each item carries its @odata.type.
 */
function transitiveMembers(r: GraphRequest, cast: string | undefined): unknown {
  const q = r.query;
  const groupId = r.params.id;
  const g = r.sim.directory.objects.get(groupId.toLowerCase());
  if (!g || g.kind !== 'group') throw resourceNotFound(groupId);
  const type = cast === undefined ? null : cast === 'microsoft.graph.user' ? 'user' : cast === 'microsoft.graph.group' ? 'group' : undefined;
  if (type === undefined) throw new HttpError(400, 'Request_UnsupportedQuery', `The type '${cast}' is not a supported member type for this query.`);
  for (const p of ['$filter', '$search', '$orderby']) {
    if (q.has(p) && !eventual(r))
      throw new HttpError(400, 'Request_UnsupportedQuery', `${p} on transitiveMembers needs the ConsistencyLevel: eventual header and $count=true.`);
    if (q.has(p)) throw new HttpError(400, 'Request_UnsupportedQuery', `${p} is not supported by the sandbox simulator on transitiveMembers.`);
  }
  const top = parseTop(q.get('$top'), r.sim.limits.defaultPageSize);
  const select = parseSelect(q.get('$select'));
  const { users, groups } = r.sim.directory.transitiveMembers(g.id);
  const all = type === 'user' ? users : type === 'group' ? groups : [...users, ...groups];
  const skip = q.get('$skiptoken');
  const offset = skip ? decodeToken<{ o: number }>(skip, 'skip token').o : 0;
  const page = all.slice(offset, offset + top);
  const value = page.map((o) => {
    const props = applySelect(o.props, select, defaultSelect(o.kind));
    return type ? props : { '@odata.type': `#microsoft.graph.${o.kind}`, ...props };
  });
  const entity = type === 'user' ? 'users' : type === 'group' ? 'groups' : 'directoryObjects';
  const out: Record<string, unknown> = { '@odata.context': odataContext(r, `${entity}${select ? `(${select.join(',')})` : ''}`) };
  if (offset + top < all.length) {
    const params = new URLSearchParams(q);
    params.set('$skiptoken', encodeToken({ o: offset + top }));
    out['@odata.nextLink'] = link(r, `/groups/${g.id}/transitiveMembers${cast ? `/${cast}` : ''}`, params);
  }
  out.value = value;
  return out;
}

function delta(r: GraphRequest, kind: EntraKind): unknown {
  const q = r.query;
  const { directory, baseUrl } = r.sim;
  const version = r.version;
  const path = kind === 'user' ? '/users/delta' : '/groups/delta';
  if (q.has('$top')) throw new HttpError(400, 'Request_UnsupportedQuery', 'The $top query option is not supported with delta.');
  const prefer = /odata\.maxpagesize=(\d+)/i.exec(String(r.req.headers.prefer ?? ''));
  const pageSize = Math.min(r.sim.limits.deltaPageSize, prefer ? Number(prefer[1]) : Infinity);
  type State = { sel: string[] | null; since: number; upto: number; off: number; init: boolean };
  let st: State;
  const dt = q.get('$deltatoken');
  const sk = q.get('$skiptoken');
  if (sk) st = decodeToken<State>(sk, 'skip token');
  else if (dt === 'latest') {
    const sel = parseSelect(q.get('$select'));
    return {
      '@odata.context': `${baseUrl}/${version}/$metadata#${kind}s`,
      '@odata.deltaLink': `${baseUrl}/${version}${path}?$deltatoken=${encodeToken({ sel, since: directory.seq })}`,
      value: [],
    };
  } else if (dt) {
    const t = decodeToken<{ sel: string[] | null; since: number }>(dt, 'delta token');
    st = { sel: t.sel, since: t.since, upto: directory.seq, off: 0, init: false };
  } else st = { sel: parseSelect(q.get('$select')), since: 0, upto: directory.seq, off: 0, init: true };

  const defaults = defaultSelect(kind);
  const value: unknown[] = [];
  let done: boolean;
  if (st.init) {
    const order = directory.order[kind];
    let off = st.off;
    while (off < order.length && value.length < pageSize) {
      const id = order[off++];
      const o = id ? directory.objects.get(id) : undefined;
      if (o) value.push(applySelect(o.props, st.sel, defaults));
    }
    st = { ...st, off };
    done = off >= order.length;
  } else {
    const log = directory.changeLog[kind];
    // Binary search for the first change after the token.
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log[mid].seq <= st.since) lo = mid + 1;
      else hi = mid;
    }
    const ids: string[] = [];
    const seen = new Set<string>();
    for (let i = lo; i < log.length && log[i].seq <= st.upto; i++) {
      if (!seen.has(log[i].id)) {
        seen.add(log[i].id);
        ids.push(log[i].id);
      }
    }
    const page = ids.slice(st.off, st.off + pageSize);
    for (const id of page) {
      const o = directory.objects.get(id);
      if (o) value.push(applySelect(o.props, st.sel, defaults));
      else {
        const t = directory.tombstones.get(id);
        value.push({ id, '@removed': { reason: t?.reason ?? 'deleted' } });
      }
    }
    st = { ...st, off: st.off + page.length };
    done = st.off >= ids.length;
  }
  const out: Record<string, unknown> = { '@odata.context': `${baseUrl}/${version}/$metadata#${kind}s` };
  if (done) out['@odata.deltaLink'] = `${baseUrl}/${version}${path}?$deltatoken=${encodeToken({ sel: st.sel, since: st.upto })}`;
  else out['@odata.nextLink'] = `${baseUrl}/${version}${path}?$skiptoken=${encodeToken(st)}`;
  out.value = value;
  return out;
}
