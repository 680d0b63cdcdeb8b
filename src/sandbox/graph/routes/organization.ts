import { iso } from '../model.js';
import { applySelect, parseSelect } from '../odata.js';
import { odataContext, ok, type Route } from './route.js';

// The tenant itself: /organization and Connect's tenant-level settings.

export const organizationRoutes: Route[] = [
  {
    // The tenant, with its directory sync state (organization resource; $select honoured).
    method: 'GET',
    pattern: '/organization',
    stat: 'GET /organization',
    handler: (r) => {
      const last = r.sim.lastDirectorySync;
      const org = { id: r.sim.tenantId, displayName: 'Contoso', onPremisesSyncEnabled: last !== null, onPremisesLastSyncDateTime: last ? iso(last) : null };
      return ok({ '@odata.context': odataContext(r, 'organization'), value: [applySelect(org, parseSelect(r.query.get('$select')), ['id', 'displayName'])] });
    },
  },
  {
    // Connect's tenant-level settings, incl. accidental-delete prevention.
    method: 'GET',
    pattern: '/directory/onPremisesSynchronization',
    stat: 'GET /directory/onPremisesSynchronization',
    handler: (r) => ok({ '@odata.context': odataContext(r, 'directory/onPremisesSynchronization'), value: [r.sim.onPremisesSynchronization] }),
  },
];
