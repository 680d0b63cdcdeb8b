import { agentRoutes } from './agents.js';
import { auditLogRoutes } from './auditLogs.js';
import { directoryObjectRoutes } from './directoryObjects.js';
import { domainRoutes } from './domains.js';
import { notFoundRoutes } from './notFound.js';
import { organizationRoutes } from './organization.js';
import { provisionOnDemandRoutes } from './provisionOnDemand.js';
import { routeTable } from './route.js';
import { servicePrincipalRoutes } from './servicePrincipals.js';
import { schemaRoutes } from './synchronizationSchema.js';
import { secretRoutes } from './synchronizationSecrets.js';
import { templateRoutes } from './synchronizationTemplates.js';
import { jobRoutes } from './synchronizationJobs.js';

export type { GraphRequest, Reply, Route } from './route.js';

/** Every route the simulator serves, one table per resource; the not-found answers last, as they match anything. */
export const dispatch = routeTable([
  ...directoryObjectRoutes,
  ...domainRoutes,
  ...organizationRoutes,
  ...servicePrincipalRoutes,
  ...secretRoutes,
  ...templateRoutes,
  ...jobRoutes,
  ...schemaRoutes,
  ...provisionOnDemandRoutes,
  ...agentRoutes,
  ...auditLogRoutes,
  ...notFoundRoutes,
]);
