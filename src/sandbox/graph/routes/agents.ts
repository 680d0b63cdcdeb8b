import { HttpError } from '../odata.js';
import { odataContext, ok, type Route } from './route.js';

// The provisioning agents (beta only, as in Graph), with their agent groups on $expand.

export const agentRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/onPremisesPublishingProfiles/provisioning/agents',
    stat: 'GET /onPremisesPublishingProfiles/provisioning/agents',
    handler: (r) => {
      if (r.version !== 'beta') throw new HttpError(400, 'BadRequest', "Resource not found for the segment 'onPremisesPublishingProfiles'.");
      const expand = (r.query.get('$expand') ?? '')
        .split(',')
        .map((x) => x.trim())
        .includes('agentGroups');
      const value = [...r.sim.agents.values()].map((a) => ({
        id: a.id,
        externalIp: a.externalIp,
        machineName: a.machineName,
        status: a.status,
        supportedPublishingTypes: ['provisioning'],
        ...(expand ? { agentGroups: [{ id: groupIdFor(a.domain), displayName: a.domain, isDefault: false, publishingType: 'provisioning' }] } : {}),
      }));
      return ok({ '@odata.context': odataContext(r, "onPremisesPublishingProfiles('provisioning')/agents"), value });
    },
  },
];

function groupIdFor(domain: string): string {
  // Stable per domain so repeated reads show the same agent group.
  const h = Buffer.from(domain.toLowerCase()).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
