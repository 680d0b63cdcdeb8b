import { randomUUID } from 'node:crypto';
import { DEFAULT_DELETE_THRESHOLD, emptyStatus, JOB_TEMPLATES, templateSchema, type SimJob } from '../model.js';
import { HttpError } from '../odata.js';
import { JOB, noContent, odataContext, ok, servicePrincipal, SYNC, syncJob, type Route } from './route.js';

// …/synchronization/jobs: create, list, read and delete jobs, and the actions on one (start, pause, restart,
// validateCredentials). Schema and provisionOnDemand have their own tables.

export const jobRoutes: Route[] = [
  {
    method: 'GET',
    pattern: `${SYNC}/jobs`,
    stat: 'GET /synchronization/jobs',
    handler: (r) =>
      ok({ '@odata.context': odataContext(r, "servicePrincipals('id')/synchronization/jobs"), value: [...servicePrincipal(r).jobs.values()].map(jobJson) }),
  },
  {
    method: 'POST',
    pattern: `${SYNC}/jobs`,
    stat: 'POST /synchronization/jobs',
    handler: (r) => {
      const sp = servicePrincipal(r);
      const templateId = r.body?.templateId;
      if (!JOB_TEMPLATES.includes(templateId))
        throw new HttpError(400, 'BadRequest', `The template '${String(templateId)}' is not one of this application's synchronization templates.`);
      const now = r.sim.clock.now();
      const id = `${templateId}.${r.sim.tenantId.replace(/-/g, '')}.${randomUUID()}`;
      const job: SimJob = {
        id,
        templateId,
        schedule: { expiration: null, interval: 'PT2M', state: 'Disabled' },
        status: emptyStatus(),
        settings: [{ name: 'QuarantineTooManyDeletesThreshold', value: String(DEFAULT_DELETE_THRESHOLD) }],
        schema: templateSchema(id, templateId, now, r.sim.adHasMailNickname),
        forceDeletes: false,
        stickyQuarantine: false,
        runningSchema: null,
      };
      sp.jobs.set(id, job);
      return ok({ '@odata.context': odataContext(r, "servicePrincipals('id')/synchronization/jobs/$entity"), ...jobJson(job) }, 201);
    },
  },
  {
    method: 'GET',
    pattern: JOB,
    stat: 'GET /synchronization/jobs/{id}',
    handler: (r) => ok({ '@odata.context': odataContext(r, "servicePrincipals('id')/synchronization/jobs/$entity"), ...jobJson(syncJob(r).job) }),
  },
  {
    method: 'DELETE',
    pattern: JOB,
    stat: 'DELETE /synchronization/jobs/{id}',
    handler: (r) => {
      const { sp, job } = syncJob(r);
      sp.jobs.delete(job.id);
      return noContent();
    },
  },
  {
    method: 'POST',
    pattern: `${JOB}/start`,
    stat: 'POST /jobs/{id}/start',
    handler: (r) => {
      const { job } = syncJob(r);
      // Starting a Disabled or Paused job takes its current schema; start on a running job changes nothing about it.
      if (job.schedule.state !== 'Active') job.runningSchema = structuredClone(job.schema);
      job.schedule.state = 'Active';
      if (job.status.quarantine) r.sim.clearQuarantine(job);
      job.status.code = job.status.lastExecution ? 'Active' : 'NotRun';
      return noContent();
    },
  },
  {
    method: 'POST',
    pattern: `${JOB}/pause`,
    stat: 'POST /jobs/{id}/pause',
    handler: (r) => {
      const { job } = syncJob(r);
      job.schedule.state = 'Paused';
      job.status.code = 'Paused';
      return noContent();
    },
  },
  {
    method: 'POST',
    pattern: `${JOB}/restart`,
    stat: 'POST /jobs/{id}/restart',
    handler: (r) => {
      const { job } = syncJob(r);
      const scope = String(r.body?.criteria?.resetScope ?? '');
      const flags = scope
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const known = ['None', 'ConnectorDataStore', 'Escrows', 'Watermark', 'QuarantineState', 'Full', 'ForceDeletes'];
      const bad = flags.find((f) => !known.includes(f));
      if (bad) throw new HttpError(400, 'BadRequest', `Requested value '${bad}' was not found.`);
      // An empty resetScope behaves like the portal's restart (QuarantineState, Watermark, Escrows). QuarantineState
      // (or Full) lifts a quarantine; ForceDeletes lifts only the one it is documented for, TooManyDeletes (the held
      // deletes go through). Any other scope leaves a quarantined job quarantined: never kinder than production.
      const lifts =
        flags.length === 0 ||
        flags.includes('QuarantineState') ||
        flags.includes('Full') ||
        (flags.includes('ForceDeletes') && job.status.quarantine?.reason === 'TooManyDeletes');
      if (lifts && job.status.quarantine) r.sim.clearQuarantine(job);
      if (flags.includes('ForceDeletes')) job.forceDeletes = true;
      job.runningSchema = structuredClone(job.schema);
      if (flags.length === 0 || flags.includes('Escrows') || flags.includes('Full')) job.status.countSuccessiveCompleteFailures = 0;
      job.schedule.state = 'Active';
      if (job.status.code === 'Paused') job.status.code = job.status.lastExecution ? 'Active' : 'NotRun';
      return noContent();
    },
  },
  {
    method: 'POST',
    pattern: `${JOB}/validateCredentials`,
    stat: 'POST /jobs/{id}/validateCredentials',
    handler: (r) => {
      const { sp } = syncJob(r);
      const domain = sp.secrets.find((x) => x.key === 'Domain');
      if (!domain) throw new HttpError(400, 'HybridIdentityServiceInvalidResource', 'The Domain secret of this configuration is not set.');
      const active = [...r.sim.agents.values()].some((a) => a.status === 'active' && domain.value.toLowerCase().includes(`"${a.domain.toLowerCase()}"`));
      if (!active) throw new HttpError(400, 'HybridIdentityServiceNoActiveAgents', 'No active provisioning agent could validate the credentials.');
      return noContent();
    },
  },
];

function jobJson(job: SimJob): Record<string, unknown> {
  return {
    id: job.id,
    templateId: job.templateId,
    schedule: { ...job.schedule },
    status: structuredClone(job.status),
    synchronizationJobSettings: job.settings.map((x) => ({ ...x })),
  };
}
