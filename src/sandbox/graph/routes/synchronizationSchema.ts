import { randomUUID } from 'node:crypto';
import { isValidDn } from '../../../dn.js';
import { iso } from '../model.js';
import { HttpError } from '../odata.js';
import { JOB, noContent, odataContext, ok, syncJob, type Route } from './route.js';

// …/jobs/{id}/schema: a job's rules and directories, replaced with PUT, and AD's attributes discovered. PATCH is what
// the OpenAPI says and what the SDKs send; the backend has no such route, so it falls to the not-found answers.

export const schemaRoutes: Route[] = [
  {
    method: 'GET',
    pattern: `${JOB}/schema`,
    stat: 'GET /jobs/{id}/schema',
    handler: (r) =>
      ok({ '@odata.context': odataContext(r, "servicePrincipals('id')/synchronization/jobs('id')/schema/$entity"), ...structuredClone(syncJob(r).job.schema) }),
  },
  {
    method: 'PUT',
    pattern: `${JOB}/schema`,
    stat: 'PUT /jobs/{id}/schema',
    handler: (r) => {
      const { job } = syncJob(r);
      const body = r.body;
      if (!body || !Array.isArray(body.synchronizationRules)) throw new HttpError(400, 'BadRequest', 'The schema must contain synchronizationRules.');
      for (const rule of body.synchronizationRules) {
        for (const c of [...(rule?.containerFilter?.includedContainers ?? []), ...(rule?.groupFilter?.includedGroups ?? [])]) {
          if (typeof c !== 'string' || !isValidDn(c)) throw new HttpError(400, 'BadRequest', `'${String(c)}' is not a valid distinguished name.`);
        }
      }
      const { ['@odata.context']: _ignored, ...schema } = body;
      job.schema = { ...structuredClone(schema), id: job.id, version: `Date:${iso(r.sim.clock.now())}, ActivityId:${randomUUID()}` };
      return noContent();
    },
  },
  {
    method: 'POST',
    pattern: `${JOB}/schema/directories/{directoryId}/discover`,
    stat: 'POST /schema/directories/{id}/discover',
    handler: (r) => {
      const { job } = syncJob(r);
      const dir = (job.schema.directories ?? []).find((d: any) => d.id === r.params.directoryId);
      if (!dir) throw new HttpError(404, 'NotFound', `The directory '${r.params.directoryId}' was not found in the schema.`);
      dir.discoveryDateTime = iso(r.sim.clock.now());
      if (dir.name === 'Active Directory') {
        const user = dir.objects.find((o: any) => o.name === 'user');
        const has = user.attributes.some((a: any) => a.name === 'mailNickname');
        if (r.sim.adHasMailNickname && !has) user.attributes.push({ name: 'mailNickname', type: 'String' });
        if (!r.sim.adHasMailNickname && has) user.attributes = user.attributes.filter((a: any) => a.name !== 'mailNickname');
      }
      return ok({ '@odata.context': odataContext(r, 'microsoft.graph.directoryDefinition'), ...structuredClone(dir) });
    },
  },
];
