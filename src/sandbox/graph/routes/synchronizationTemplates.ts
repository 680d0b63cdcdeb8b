import { JOB_TEMPLATES } from '../model.js';
import { odataContext, ok, servicePrincipal, SYNC, type Route } from './route.js';

// …/synchronization/templates: the job templates the Cloud Sync application offers.

export const templateRoutes: Route[] = [
  {
    method: 'GET',
    pattern: `${SYNC}/templates`,
    stat: 'GET /synchronization/templates',
    handler: (r) => {
      const sp = servicePrincipal(r);
      const value = JOB_TEMPLATES.map((t) => ({
        id: t,
        applicationId: sp.appId,
        default: t === 'AD2AADProvisioning',
        description: t,
        discoverable: true,
        factoryTag: t,
        metadata: [],
      }));
      return ok({ '@odata.context': odataContext(r, 'synchronization/templates'), value });
    },
  },
];
