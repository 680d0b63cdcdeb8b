import { findServicePrincipal, JOB, noResource, notFoundSegment, servicePrincipal, SYNC, syncJob, type Route } from './route.js';

// What Graph answers for a method or path it does not serve, most specific first. Under a service principal (and a
// job) the object is looked up before the path is judged, so a missing one is a 404 for it, as Graph answers.

export const notFoundRoutes: Route[] = [
  {
    method: '*',
    pattern: `${JOB}/{...rest}`,
    stat: null,
    handler: (r) => {
      syncJob(r);
      throw noResource(r);
    },
  },
  {
    method: '*',
    pattern: `${SYNC}/{...rest}`,
    stat: null,
    handler: (r) => {
      servicePrincipal(r);
      throw noResource(r);
    },
  },
  {
    // Even `POST /servicePrincipals` (no id) is answered as an unknown service principal.
    method: '*',
    pattern: '/servicePrincipals/{...rest}',
    stat: null,
    handler: (r) => {
      findServicePrincipal(r, r.rest[0]);
      throw notFoundSegment(r);
    },
  },
  {
    method: '*',
    pattern: '/{...rest}',
    stat: null,
    handler: (r) => {
      throw notFoundSegment(r);
    },
  },
];
