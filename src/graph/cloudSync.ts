import { isValidDn, normalizeDn } from '../dn.js';
import type { Logger } from '../log.js';
import { GraphPlanError } from './errors.js';
import { paths, SYNC_VERSION, versioned } from './paths.js';
import type { GraphTransport } from './transport.js';
import {
  AD2AAD_APPLICATION_TEMPLATE_ID,
  jobIsOfTemplate,
  parseJob,
  type CloudSyncJobTemplate,
  type PlannedRequest,
} from './types.js';

export interface CloudSyncConfigurationInput {
  /** AD DNS domain, e.g. contoso.com; also the service principal's display name, as the portal does. */
  domain: string;
  passwordHashSync: boolean;
  /** OU DNs to add to the scope of the AD2AADProvisioning job. Never removes any. */
  containers: string[];
}

export interface CloudSyncConfigurationResult {
  servicePrincipalId: string;
  provisioningJobId: string;
  passwordHashJobId?: string;
  includedContainers: string[];
  changed: boolean;
  /** The mutating requests actually sent, in order (empty when nothing needed to change). */
  requests: PlannedRequest[];
}

export interface ScopeTarget {
  servicePrincipalId: string;
  jobId: string;
}

/** What the module knows about the current configuration (reads only). */
interface Observed {
  servicePrincipalId?: string;
  provisioningJobId?: string;
  passwordHashJobId?: string;
  secrets?: { key: string; value: string | null }[];
  schema?: any;
}

type StepKind = 'instantiate' | 'create-job' | 'put-secrets' | 'put-schema';
interface Step {
  kind: StepKind;
  request: PlannedRequest;
}

const SP_PLACEHOLDER = '{servicePrincipalId}';
const JOB_PLACEHOLDER = '{provisioningJobId}';

function isMasked(v: string | null): boolean {
  return typeof v === 'string' && /^\*+$/.test(v);
}

function parseJsonObject(v: string | null): Record<string, unknown> | undefined {
  if (!v) return undefined;
  try {
    const o = JSON.parse(v);
    return o && typeof o === 'object' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** The schema as PUT back: exactly what GET returned, minus OData annotations. */
function schemaForPut(schema: any): any {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema ?? {})) if (!k.startsWith('@odata.')) out[k] = v;
  return out;
}

function sameDn(a: string, b: string): boolean {
  try {
    return normalizeDn(a) === normalizeDn(b);
  } catch {
    return a.toLowerCase() === b.toLowerCase();
  }
}

function requireDns(dns: string[], what: string): void {
  for (const dn of dns) if (!isValidDn(dn)) throw new GraphPlanError('InvalidDistinguishedName', `${what} is not a valid DN: ${JSON.stringify(dn)}`);
}

/** Adds containers to every rule's containerFilter, keeping existing entries as they were written. */
export function unionContainers(schema: any, containers: string[]): { schema: any; changed: boolean } {
  const copy = structuredClone(schemaForPut(schema));
  let changed = false;
  for (const rule of Array.isArray(copy.synchronizationRules) ? copy.synchronizationRules : []) {
    rule.containerFilter ??= { includedContainers: [] };
    const list: string[] = Array.isArray(rule.containerFilter.includedContainers) ? rule.containerFilter.includedContainers : [];
    for (const c of containers) {
      if (!list.some((x) => typeof x === 'string' && sameDn(x, c))) {
        list.push(c);
        changed = true;
      }
    }
    rule.containerFilter.includedContainers = list;
  }
  return { schema: copy, changed };
}

export function includedContainersOf(schema: any): string[] {
  const rule = Array.isArray(schema?.synchronizationRules) ? schema.synchronizationRules[0] : undefined;
  return Array.isArray(rule?.containerFilter?.includedContainers) ? [...rule.containerFilter.includedContainers] : [];
}

export class CloudSyncConfigurator {
  constructor(
    private readonly t: GraphTransport,
    private readonly log: Logger,
  ) {}

  /** The AD2AAD service principal for a domain: instantiated from the template, named after the domain. */
  async findServicePrincipal(domain: string): Promise<{ id: string; appId?: string; displayName: string } | undefined> {
    let link: string | undefined;
    let res = await this.t.request('GET', paths.servicePrincipalsByTemplate(AD2AAD_APPLICATION_TEMPLATE_ID));
    for (;;) {
      const hit = (res.body?.value ?? []).find(
        (sp: any) => typeof sp?.displayName === 'string' && sp.displayName.toLowerCase() === domain.toLowerCase(),
      );
      if (hit) return { id: String(hit.id ?? hit.objectId), appId: hit.appId, displayName: hit.displayName };
      link = res.body?.['@odata.nextLink'];
      if (!link) return undefined;
      const { version, path } = this.t.splitLink(link);
      res = await this.t.request('GET', path, { version });
    }
  }

  private async listRawJobs(sp: string): Promise<any[]> {
    const out: any[] = [];
    let res = await this.t.request('GET', paths.jobs(sp), { version: SYNC_VERSION });
    for (;;) {
      out.push(...(res.body?.value ?? []));
      const link = res.body?.['@odata.nextLink'];
      if (!link) return out;
      const { version, path } = this.t.splitLink(link);
      res = await this.t.request('GET', path, { version });
    }
  }

  private async observe(domain: string, passwordHashSync: boolean, knownServicePrincipalId?: string): Promise<Observed> {
    // Right after instantiate, directory replication may not list the new SP yet: use the id we were given.
    const sp = knownServicePrincipalId ? { id: knownServicePrincipalId } : await this.findServicePrincipal(domain);
    if (!sp) return {};
    const jobs = (await this.listRawJobs(sp.id)).map(parseJob);
    const find = (t: CloudSyncJobTemplate) => jobs.find((j) => jobIsOfTemplate(j, t))?.id;
    const obs: Observed = {
      servicePrincipalId: sp.id,
      provisioningJobId: find('AD2AADProvisioning'),
      passwordHashJobId: passwordHashSync ? find('AD2AADPasswordHash') : undefined,
    };
    obs.secrets = (await this.t.request('GET', paths.secrets(sp.id), { version: SYNC_VERSION })).body?.value ?? [];
    if (obs.provisioningJobId) {
      obs.schema = (await this.t.request('GET', paths.schema(sp.id, obs.provisioningJobId), { version: SYNC_VERSION })).body;
    }
    return obs;
  }

  private desiredSecrets(domain: string, passwordHashSync: boolean): { key: string; value: string }[] {
    return [
      { key: 'Domain', value: JSON.stringify({ domain }) },
      // AppKey turns on the tenant's sync flags; the PasswordHash scenario also enables PHS (ENTRA how-to).
      { key: 'AppKey', value: JSON.stringify({ appKeyScenario: passwordHashSync ? 'AD2AADPasswordHash' : 'AD2AADProvisioning' }) },
    ];
  }

  private secretsStep(sp: string, domain: string, passwordHashSync: boolean, existing: { key: string; value: string | null }[]): Step | undefined {
    const desired = this.desiredSecrets(domain, passwordHashSync);
    const satisfied = (d: { key: string; value: string }) => {
      const cur = existing.find((s) => s.key === d.key);
      if (!cur) return false;
      const a = parseJsonObject(cur.value);
      const b = JSON.parse(d.value);
      if (d.key === 'Domain') return typeof a?.domain === 'string' && a.domain.toLowerCase() === String(b.domain).toLowerCase();
      return a?.appKeyScenario === b.appKeyScenario;
    };
    if (desired.every(satisfied)) return undefined;
    // Secrets are PUT-only replace-all: resend every value we keep. A masked value cannot be resent.
    const kept = existing.filter((s) => !desired.some((d) => d.key === s.key));
    const masked = kept.filter((s) => isMasked(s.value)).map((s) => s.key);
    if (masked.length) {
      throw new GraphPlanError(
        'MaskedSecretWouldBeLost',
        `The synchronization secrets must be replaced as a whole, but Graph returns ${masked.join(', ')} masked; ` +
          `sending them back would overwrite them. Set the Domain/AppKey secrets in the portal, or include the real values.`,
      );
    }
    const value = [...kept.map((s) => ({ key: s.key, value: s.value })), ...desired];
    return {
      kind: 'put-secrets',
      request: {
        method: 'PUT',
        path: versioned(SYNC_VERSION, paths.secrets(sp)),
        body: { value },
        summary: `Set the Domain secret to ${domain} (${passwordHashSync ? 'with' : 'without'} password hash sync), keeping ${kept.length} other secret(s)`,
      },
    };
  }

  private plan(input: CloudSyncConfigurationInput, obs: Observed): Step[] {
    const steps: Step[] = [];
    const sp = obs.servicePrincipalId ?? SP_PLACEHOLDER;
    if (!obs.servicePrincipalId) {
      steps.push({
        kind: 'instantiate',
        request: {
          method: 'POST',
          path: versioned(SYNC_VERSION, paths.instantiate(AD2AAD_APPLICATION_TEMPLATE_ID)),
          body: { displayName: input.domain },
          summary: `Create the Cloud Sync configuration (service principal "${input.domain}") from the AD2AAD template`,
        },
      });
    }
    const templates: CloudSyncJobTemplate[] = [];
    if (!obs.provisioningJobId) templates.push('AD2AADProvisioning');
    if (input.passwordHashSync && !obs.passwordHashJobId) templates.push('AD2AADPasswordHash');
    for (const templateId of templates) {
      steps.push({
        kind: 'create-job',
        request: {
          method: 'POST',
          path: versioned(SYNC_VERSION, paths.jobs(sp)),
          body: { templateId },
          summary: `Create the ${templateId} job (created disabled)`,
        },
      });
    }
    const secrets = this.secretsStep(sp, input.domain, input.passwordHashSync, obs.secrets ?? []);
    if (secrets) steps.push(secrets);
    if (obs.schema && obs.provisioningJobId) {
      const { schema, changed } = unionContainers(obs.schema, input.containers);
      if (changed) {
        const added = input.containers.filter((c) => !includedContainersOf(obs.schema).some((x) => sameDn(x, c)));
        steps.push({
          kind: 'put-schema',
          request: {
            method: 'PUT',
            path: versioned(SYNC_VERSION, paths.schema(sp, obs.provisioningJobId)),
            body: schema,
            summary: `Add ${added.join('; ')} to the OU scope (now ${includedContainersOf(schema).length} container(s))`,
          },
        });
      }
    } else if (input.containers.length) {
      // The job does not exist yet: its template schema is only readable once it does.
      steps.push({
        kind: 'put-schema',
        request: {
          method: 'PUT',
          path: versioned(SYNC_VERSION, paths.schema(sp, obs.provisioningJobId ?? JOB_PLACEHOLDER)),
          summary: `Set the OU scope of the new job's template schema to: ${input.containers.join('; ')}`,
        },
      });
    }
    return steps;
  }

  /** The mutating requests ensureCloudSyncConfiguration would send now (reads Graph; sends nothing that changes it). */
  async describeCloudSyncConfiguration(input: CloudSyncConfigurationInput): Promise<PlannedRequest[]> {
    requireDns(input.containers, 'container');
    return this.plan(input, await this.observe(input.domain, input.passwordHashSync)).map((s) => s.request);
  }

  async ensureCloudSyncConfiguration(input: CloudSyncConfigurationInput): Promise<CloudSyncConfigurationResult> {
    requireDns(input.containers, 'container');
    const sent: PlannedRequest[] = [];
    let knownSp: string | undefined;
    // Each pass observes, plans and executes until a step creates something later steps need to read.
    for (let pass = 0; pass < 8; pass++) {
      const obs = await this.observe(input.domain, input.passwordHashSync, knownSp);
      const steps = this.plan(input, obs);
      if (steps.length === 0) {
        return {
          servicePrincipalId: obs.servicePrincipalId!,
          provisioningJobId: obs.provisioningJobId!,
          passwordHashJobId: obs.passwordHashJobId,
          includedContainers: includedContainersOf(obs.schema),
          changed: sent.length > 0,
          requests: sent,
        };
      }
      for (const step of steps) {
        if (step.request.path.includes(SP_PLACEHOLDER) || step.request.path.includes(JOB_PLACEHOLDER)) break;
        const { path } = step.request;
        const rel = path.replace(/^\/(v1\.0|beta)/, '');
        const res = await this.t.request(step.request.method, rel, { version: SYNC_VERSION, body: step.request.body });
        sent.push(step.request);
        if (step.kind === 'instantiate') {
          // The beta docs show objectId, v1.0 shows id: accept either.
          const sp = res.body?.servicePrincipal;
          knownSp = String(sp?.id ?? sp?.objectId ?? '') || undefined;
          if (!knownSp) throw new Error('instantiate returned no servicePrincipal id');
        }
        this.log.info({ method: step.request.method, path, summary: step.request.summary }, 'cloud sync configuration step');
        if (step.kind === 'instantiate' || step.kind === 'create-job') break;
      }
    }
    throw new Error(`Cloud Sync configuration for ${input.domain} did not converge`);
  }

  private async scopeChange(target: ScopeTarget, edit: (schema: any) => { schema: any; changed: boolean }, summary: string) {
    const current = (await this.t.request('GET', paths.schema(target.servicePrincipalId, target.jobId), { version: SYNC_VERSION })).body;
    const { schema, changed } = edit(current);
    const request: PlannedRequest | undefined = changed
      ? { method: 'PUT', path: versioned(SYNC_VERSION, paths.schema(target.servicePrincipalId, target.jobId)), body: schema, summary }
      : undefined;
    return { request, schema };
  }

  private removeEdit(container: string) {
    return (s: any) => {
      const copy = structuredClone(schemaForPut(s));
      let changed = false;
      for (const rule of copy.synchronizationRules ?? []) {
        const list: string[] = rule.containerFilter?.includedContainers ?? [];
        const kept = list.filter((x) => !(typeof x === 'string' && sameDn(x, container)));
        // An empty includedContainers means "no OU filter": the whole domain. Removing the last OU would widen, not narrow.
        if (list.length > 0 && kept.length === 0) {
          throw new GraphPlanError('WouldWidenScope', `Removing ${container}, the last scoped OU, would leave no OU filter: Cloud Sync would then sync the whole domain.`);
        }
        if (kept.length !== list.length) {
          rule.containerFilter.includedContainers = kept;
          changed = true;
        }
      }
      return { schema: copy, changed };
    };
  }

  private groupEdit(groups: string[]) {
    return (s: any) => {
      const copy = structuredClone(schemaForPut(s));
      let changed = false;
      for (const rule of copy.synchronizationRules ?? []) {
        const cur: string[] = rule.groupFilter?.includedGroups ?? [];
        const same = cur.length === groups.length && cur.every((c) => groups.some((g) => sameDn(c, g)));
        if (!same) {
          rule.groupFilter = { ...(rule.groupFilter ?? {}), includedGroups: [...groups] };
          changed = true;
        }
      }
      return { schema: copy, changed };
    };
  }

  async describeRemoveContainerFromScope(target: ScopeTarget & { container: string }): Promise<PlannedRequest[]> {
    requireDns([target.container], 'container');
    const { request } = await this.scopeChange(target, this.removeEdit(target.container), `Remove ${target.container} from the OU scope`);
    return request ? [request] : [];
  }

  /** Explicit, approval-gated removal of one OU from the scope (objects under it will be deleted by Cloud Sync). */
  async removeContainerFromScope(target: ScopeTarget & { container: string }): Promise<{ changed: boolean; includedContainers: string[]; requests: PlannedRequest[] }> {
    requireDns([target.container], 'container');
    const { request, schema } = await this.scopeChange(target, this.removeEdit(target.container), `Remove ${target.container} from the OU scope`);
    if (request) await this.t.request('PUT', paths.schema(target.servicePrincipalId, target.jobId), { version: SYNC_VERSION, body: request.body });
    return { changed: !!request, includedContainers: includedContainersOf(schema), requests: request ? [request] : [] };
  }

  async describeSetGroupScope(target: ScopeTarget & { groups: string[] }): Promise<PlannedRequest[]> {
    requireDns(target.groups, 'group');
    const { request } = await this.scopeChange(target, this.groupEdit(target.groups), `Set the group scope to ${target.groups.join('; ') || '(none)'}`);
    return request ? [request] : [];
  }

  /** Sets groupFilter.includedGroups exactly (pilot-only per Microsoft; nested groups are not followed). */
  async setGroupScope(target: ScopeTarget & { groups: string[] }): Promise<{ changed: boolean; requests: PlannedRequest[] }> {
    requireDns(target.groups, 'group');
    const { request } = await this.scopeChange(target, this.groupEdit(target.groups), `Set the group scope to ${target.groups.join('; ') || '(none)'}`);
    if (request) await this.t.request('PUT', paths.schema(target.servicePrincipalId, target.jobId), { version: SYNC_VERSION, body: request.body });
    return { changed: !!request, requests: request ? [request] : [] };
  }
}
