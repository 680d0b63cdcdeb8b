import { randomUUID } from 'node:crypto';
import { AD2AAD_TEMPLATE_ID, type SimServicePrincipal } from '../model.js';
import { applySelect, HttpError, parseFilter, parseSelect } from '../odata.js';
import { odataContext, ok, servicePrincipal, type Route } from './route.js';

// The Cloud Sync application: instantiated from its gallery template, then read as a service principal.

export const servicePrincipalRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/applicationTemplates/{id}/instantiate',
    stat: 'POST /applicationTemplates/{id}/instantiate',
    handler: (r) => {
      if (r.params.id !== AD2AAD_TEMPLATE_ID)
        throw new HttpError(
          404,
          'Request_ResourceNotFound',
          `Resource '${r.params.id}' does not exist or one of its queried reference-property objects are not present.`,
        );
      const body = r.body;
      const displayName =
        typeof body?.displayName === 'string' && body.displayName ? body.displayName : 'Active Directory to Azure Active Directory Provisioning';
      const sp: SimServicePrincipal = {
        id: randomUUID(),
        appId: randomUUID(),
        applicationObjectId: randomUUID(),
        displayName,
        secrets: [],
        jobs: new Map(),
        ownerAppId: typeof r.caller.appid === 'string' ? r.caller.appid : null,
        appKeyScenario: null,
      };
      r.sim.sps.set(sp.id, sp);
      // The v1.0 docs show `id`, the beta docs `objectId`: return both so either client reading works.
      return ok(
        {
          '@odata.context': odataContext(r, 'microsoft.graph.applicationServicePrincipal'),
          application: {
            id: sp.applicationObjectId,
            objectId: sp.applicationObjectId,
            appId: sp.appId,
            applicationTemplateId: AD2AAD_TEMPLATE_ID,
            displayName,
          },
          servicePrincipal: spJson(sp),
        },
        201,
      );
    },
  },
  {
    method: 'GET',
    pattern: '/servicePrincipals',
    stat: 'GET /servicePrincipals',
    handler: (r) => {
      const filter = parseFilter(r.query.get('$filter'), ['applicationTemplateId', 'displayName', 'appId'], 'ServicePrincipal');
      const select = parseSelect(r.query.get('$select'));
      const value = [...r.sim.sps.values()]
        .map((sp) => spJson(sp))
        .filter((j) => filter(j))
        .map((j) => (select ? applySelect(j, select, []) : j));
      return ok({ '@odata.context': odataContext(r, 'servicePrincipals'), value });
    },
  },
  {
    method: 'GET',
    pattern: '/servicePrincipals/{spId}',
    stat: 'GET /servicePrincipals/{id}',
    handler: (r) => ok({ '@odata.context': odataContext(r, 'servicePrincipals/$entity'), ...spJson(servicePrincipal(r)) }),
  },
];

function spJson(sp: SimServicePrincipal): Record<string, unknown> {
  return {
    id: sp.id,
    objectId: sp.id,
    appId: sp.appId,
    applicationTemplateId: AD2AAD_TEMPLATE_ID,
    displayName: sp.displayName,
    servicePrincipalType: 'Application',
    accountEnabled: true,
  };
}
