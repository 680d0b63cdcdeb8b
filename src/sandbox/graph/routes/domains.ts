import type { SimDomain } from '../model.js';
import { applySelect, parseSelect } from '../odata.js';
import { odataContext, ok, resourceNotFound, type Route } from './route.js';

// GET /domains, GET /domains/{id}: https://learn.microsoft.com/graph/api/domain-list , domain-get (no paging; $select
// applies; a domain that is not the tenant's is 404 Request_ResourceNotFound).

export const domainRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/domains',
    stat: 'GET /domains',
    handler: (r) => {
      const select = parseSelect(r.query.get('$select'));
      return ok({
        '@odata.context': odataContext(r, `domains${select ? `(${select.join(',')})` : ''}`),
        value: [...r.sim.domains.values()].map((d) => shape(d, select)),
      });
    },
  },
  {
    method: 'GET',
    pattern: '/domains/{id}',
    stat: 'GET /domains/{id}',
    handler: (r) => {
      const select = parseSelect(r.query.get('$select'));
      const d = r.sim.domains.get(r.params.id.toLowerCase());
      if (!d) throw resourceNotFound(r.params.id);
      return ok({ '@odata.context': odataContext(r, 'domains/$entity'), ...shape(d, select) });
    },
  },
];

function shape(d: SimDomain, select: string[] | null): Record<string, unknown> {
  return select ? applySelect({ ...d }, select, []) : { ...d, supportedServices: [...d.supportedServices] };
}
