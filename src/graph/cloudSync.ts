import { isValidDn, normalizeDn } from '../dn.js';
import type { Logger } from '../log.js';
import { GraphPlanError } from './errors.js';
import { paths, SYNC_VERSION, versioned } from './paths.js';
import type { GraphTransport } from './transport.js';
import { AD2AAD_APPLICATION_TEMPLATE_ID, jobIsOfTemplate, parseJob, type CloudSyncJobTemplate, type PlannedRequest } from './types.js';

export interface CloudSyncConfigurationInput {
  /** AD DNS domain, e.g. contoso.com; also the service principal's display name, as the portal does. */
  domain: string;
  /**
   * Password hash sync for this configuration. true: the AppKey's PasswordHash scenario, the CredentialData ←
   * [PasswordHash] mapping on the users and inetOrgPersons object mappings, and the AD2AADPasswordHash job (created;
   * startPasswordHashSync starts it). false: nothing PHS-related is set (and nothing already set is removed).
   */
  passwordHashSync: boolean;
  /** OU DNs to add to the scope of the AD2AADProvisioning job. Never removes any. */
  containers: string[];
  /**
   * Who gets Cloud Sync's quarantine and accidental-delete emails ("a@b;c@d" or a list): sets the
   * SyncNotificationSettings secret. Unset: that secret is left as it is.
   */
  notificationEmail?: string | string[];
  /** Accidental-delete threshold written with notificationEmail (Microsoft's default: 500). */
  deleteThreshold?: number;
  /**
   * AppKey is write-only (GET never shows it), so it is sent only when this call creates the configuration, or when
   * this is true (e.g. passwordHashSync was turned on for an existing configuration).
   */
  resendAppKey?: boolean;
  /** Create the AAD2ADExchangeHybridWriteback job (only when asked; check exchangeHybridWritebackPossible first). */
  exchangeHybridWriteback?: boolean;
}

/**
 * Microsoft's limit of separate OUs or security groups in one Cloud Sync configuration. how-to-prerequisites.md
 * (Known limitations, Scoping filter): "You can only sync up to 59 separate OUs or Security Groups for a given
 * configuration"; newer revisions say about 50 (the 4 MB schema limit), and the Transition tool allows 30 per domain.
 * The stricter documented number is used.
 */
export const MAX_SCOPE_ENTRIES = 50;

/**
 * The attribute mapping that turns on password hash sync for a configuration, verbatim from Microsoft's
 * how-to-inbound-synch-ms-graph.md ("Enable Sync password hashes on configuration blade").
 */
export const CREDENTIAL_DATA_MAPPING = {
  defaultValue: null,
  exportMissingReferences: false,
  flowBehavior: 'FlowWhenChanged',
  flowType: 'Always',
  matchingPriority: 0,
  targetAttributeName: 'CredentialData',
  source: { expression: '[PasswordHash]', name: 'PasswordHash', type: 'Attribute', parameters: [] },
} as const;

/** The object mappings the CredentialData mapping goes into (same how-to: "Remember to do this action for both Users and inetOrgpersons"). */
const PHS_OBJECT_MAPPINGS = ['provision active directory users', 'provision active directory inetorgpersons'];

/** Adds the CredentialData mapping where it is missing (the backend does not dedupe: never add it twice). */
export function withPasswordHashMapping(schema: any): { schema: any; changed: boolean } {
  const copy = structuredClone(schemaForPut(schema));
  let changed = false;
  const rule = Array.isArray(copy.synchronizationRules) ? copy.synchronizationRules[0] : undefined;
  for (const m of Array.isArray(rule?.objectMappings) ? rule.objectMappings : []) {
    if (typeof m?.name !== 'string' || !PHS_OBJECT_MAPPINGS.includes(m.name.toLowerCase())) continue;
    m.attributeMappings = Array.isArray(m.attributeMappings) ? m.attributeMappings : [];
    if (m.attributeMappings.some((a: any) => a?.targetAttributeName === 'CredentialData')) continue;
    m.attributeMappings.push(structuredClone(CREDENTIAL_DATA_MAPPING));
    changed = true;
  }
  return { schema: copy, changed };
}

/** Whether the users object mapping carries CredentialData ← PasswordHash. */
export function hasPasswordHashMapping(schema: any): boolean {
  const rule = Array.isArray(schema?.synchronizationRules) ? schema.synchronizationRules[0] : undefined;
  const users = (rule?.objectMappings ?? []).find((m: any) => typeof m?.name === 'string' && m.name.toLowerCase() === PHS_OBJECT_MAPPINGS[0]);
  return (users?.attributeMappings ?? []).some((a: any) => a?.targetAttributeName === 'CredentialData' && a?.source?.name === 'PasswordHash');
}

/** "a@b; c@d" or ['a@b','c@d'] → "a@b;c@d" (the Recipients format of SyncNotificationSettings). */
export function normalizeRecipients(v: string | string[]): string {
  const list = (Array.isArray(v) ? v : v.split(/[;,]/)).map((x) => x.trim()).filter(Boolean);
  for (const r of list)
    if (!/^[^\s@;,]+@[^\s@;,]+\.[^\s@;,]+$/.test(r)) throw new GraphPlanError('InvalidRecipient', `not an email address: ${JSON.stringify(r)}`);
  if (list.length === 0) throw new GraphPlanError('InvalidRecipient', 'notificationEmail names no recipient');
  return list.join(';');
}

export interface CloudSyncConfigurationResult {
  servicePrincipalId: string;
  provisioningJobId: string;
  passwordHashJobId?: string;
  exchangeHybridWritebackJobId?: string;
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
  exchangeJobId?: string;
  secrets?: { key: string; value: string | null }[];
  schema?: any;
}

interface PlanOptions {
  /** Send the write-only AppKey in this plan's secrets PUT. */
  sendAppKey: boolean;
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

/** Refuses a scope over Microsoft's limit (MAX_SCOPE_ENTRIES OUs and groups together) before sending it. */
function checkScopeSize(schema: any): void {
  const rule = Array.isArray(schema?.synchronizationRules) ? schema.synchronizationRules[0] : undefined;
  const n = (rule?.containerFilter?.includedContainers ?? []).length + (rule?.groupFilter?.includedGroups ?? []).length;
  if (n > MAX_SCOPE_ENTRIES) {
    throw new GraphPlanError(
      'TooManyScopeEntries',
      `This would put ${n} OUs and groups in one Cloud Sync configuration; Microsoft supports at most ${MAX_SCOPE_ENTRIES} ` +
        `("You can only sync up to 59 separate OUs or Security Groups for a given configuration", about 50 in newer revisions). ` +
        `Scope a parent OU instead (nested OUs are supported) or split the domain across configurations.`,
    );
  }
}

function checkInput(input: CloudSyncConfigurationInput): void {
  requireDns(input.containers, 'container');
  if (input.containers.length > MAX_SCOPE_ENTRIES) checkScopeSize({ synchronizationRules: [{ containerFilter: { includedContainers: input.containers } }] });
  if (input.notificationEmail !== undefined) normalizeRecipients(input.notificationEmail);
  if (input.deleteThreshold !== undefined && !(Number.isInteger(input.deleteThreshold) && input.deleteThreshold > 0)) {
    throw new GraphPlanError('InvalidDeleteThreshold', `deleteThreshold must be a positive integer, not ${input.deleteThreshold}`);
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
      const hit = (res.body?.value ?? []).find((sp: any) => typeof sp?.displayName === 'string' && sp.displayName.toLowerCase() === domain.toLowerCase());
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

  private async observe(input: CloudSyncConfigurationInput, knownServicePrincipalId?: string): Promise<Observed> {
    const { domain, passwordHashSync } = input;
    // Right after instantiate, directory replication may not list the new SP yet: use the id we were given.
    const sp = knownServicePrincipalId ? { id: knownServicePrincipalId } : await this.findServicePrincipal(domain);
    if (!sp) return {};
    const jobs = (await this.listRawJobs(sp.id)).map(parseJob);
    const find = (t: CloudSyncJobTemplate) => jobs.find((j) => jobIsOfTemplate(j, t))?.id;
    const obs: Observed = {
      servicePrincipalId: sp.id,
      provisioningJobId: find('AD2AADProvisioning'),
      passwordHashJobId: passwordHashSync ? find('AD2AADPasswordHash') : undefined,
      exchangeJobId: find('AAD2ADExchangeHybridWriteback'),
    };
    obs.secrets = (await this.t.request('GET', paths.secrets(sp.id), { version: SYNC_VERSION })).body?.value ?? [];
    if (obs.provisioningJobId) {
      obs.schema = (await this.t.request('GET', paths.schema(sp.id, obs.provisioningJobId), { version: SYNC_VERSION })).body;
    }
    return obs;
  }

  /**
   * The secrets this input wants that GET can show (Domain; SyncNotificationSettings when notificationEmail is given),
   * plus the write-only AppKey when asked to send it. Values are Microsoft's documented JSON strings
   * (how-to-inbound-synch-ms-graph.md: "Update targeted domain", "Accidental deletes").
   */
  private desiredSecrets(
    input: CloudSyncConfigurationInput,
    existing: { key: string; value: string | null }[],
    o: PlanOptions,
  ): { key: string; value: string }[] {
    const out = [{ key: 'Domain', value: JSON.stringify({ domain: input.domain }) }];
    if (input.notificationEmail !== undefined) {
      const cur = parseJsonObject(existing.find((s) => s.key === 'SyncNotificationSettings')?.value ?? null);
      const threshold = input.deleteThreshold ?? (Number.isInteger(cur?.DeleteThresholdValue) ? (cur!.DeleteThresholdValue as number) : 500);
      out.push({
        key: 'SyncNotificationSettings',
        value: JSON.stringify({
          Enabled: true,
          Recipients: normalizeRecipients(input.notificationEmail),
          DeleteThresholdEnabled: true,
          DeleteThresholdValue: threshold,
        }),
      });
    }
    // AppKey turns on the tenant's sync flags; the PasswordHash scenario also enables PHS (ENTRA how-to). Write-only.
    if (o.sendAppKey)
      out.push({ key: 'AppKey', value: JSON.stringify({ appKeyScenario: input.passwordHashSync ? 'AD2AADPasswordHash' : 'AD2AADProvisioning' }) });
    return out;
  }

  private secretsStep(sp: string, input: CloudSyncConfigurationInput, existing: { key: string; value: string | null }[], o: PlanOptions): Step | undefined {
    const { domain, passwordHashSync } = input;
    const desired = this.desiredSecrets(input, existing, o);
    // Only what GET shows is compared; the write-only AppKey is "satisfied" unless this plan must send it.
    const satisfied = (d: { key: string; value: string }) => {
      if (d.key === 'AppKey') return false;
      const cur = existing.find((s) => s.key === d.key);
      if (!cur) return false;
      const a = parseJsonObject(cur.value);
      const b = JSON.parse(d.value);
      if (d.key === 'Domain') return typeof a?.domain === 'string' && a.domain.toLowerCase() === String(b.domain).toLowerCase();
      return (
        a?.Enabled === b.Enabled &&
        a?.Recipients === b.Recipients &&
        a?.DeleteThresholdEnabled === b.DeleteThresholdEnabled &&
        a?.DeleteThresholdValue === b.DeleteThresholdValue
      );
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
        summary:
          `Set the Domain secret to ${domain}` +
          (desired.some((d) => d.key === 'AppKey') ? ` and the AppKey (${passwordHashSync ? 'with' : 'without'} password hash sync)` : '') +
          (desired.some((d) => d.key === 'SyncNotificationSettings') ? `, notification emails to ${normalizeRecipients(input.notificationEmail!)}` : '') +
          `, keeping ${kept.length} other secret(s)`,
      },
    };
  }

  private plan(input: CloudSyncConfigurationInput, obs: Observed, o: PlanOptions): Step[] {
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
    if (input.exchangeHybridWriteback && !obs.exchangeJobId) templates.push('AAD2ADExchangeHybridWriteback');
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
    const secrets = this.secretsStep(sp, input, obs.secrets ?? [], o);
    if (secrets) steps.push(secrets);
    if (obs.schema && obs.provisioningJobId) {
      const scoped = unionContainers(obs.schema, input.containers);
      checkScopeSize(scoped.schema);
      const phs = input.passwordHashSync ? withPasswordHashMapping(scoped.schema) : { schema: scoped.schema, changed: false };
      if (scoped.changed || phs.changed) {
        const added = input.containers.filter((c) => !includedContainersOf(obs.schema).some((x) => sameDn(x, c)));
        const what = [
          ...(scoped.changed ? [`Add ${added.join('; ')} to the OU scope (now ${includedContainersOf(phs.schema).length} container(s))`] : []),
          ...(phs.changed ? ['add the CredentialData ← [PasswordHash] mapping (password hash sync) to the users and inetOrgPersons mappings'] : []),
        ];
        steps.push({
          kind: 'put-schema',
          request: { method: 'PUT', path: versioned(SYNC_VERSION, paths.schema(sp, obs.provisioningJobId)), body: phs.schema, summary: what.join('; ') },
        });
      }
    } else if (input.containers.length || input.passwordHashSync) {
      // The job does not exist yet: its template schema is only readable once it does.
      steps.push({
        kind: 'put-schema',
        request: {
          method: 'PUT',
          path: versioned(SYNC_VERSION, paths.schema(sp, obs.provisioningJobId ?? JOB_PLACEHOLDER)),
          summary:
            `Set the OU scope of the new job's template schema to: ${input.containers.join('; ')}` +
            (input.passwordHashSync ? '; add the CredentialData ← [PasswordHash] mapping (password hash sync)' : ''),
        },
      });
    }
    return steps;
  }

  /** The mutating requests ensureCloudSyncConfiguration would send now (reads Graph; sends nothing that changes it). */
  async describeCloudSyncConfiguration(input: CloudSyncConfigurationInput): Promise<PlannedRequest[]> {
    checkInput(input);
    const obs = await this.observe(input);
    return this.plan(input, obs, { sendAppKey: !obs.servicePrincipalId || input.resendAppKey === true }).map((s) => s.request);
  }

  async ensureCloudSyncConfiguration(input: CloudSyncConfigurationInput): Promise<CloudSyncConfigurationResult> {
    checkInput(input);
    const sent: PlannedRequest[] = [];
    let knownSp: string | undefined;
    let appKeyPending = input.resendAppKey === true;
    // Each pass observes, plans and executes until a step creates something later steps need to read.
    for (let pass = 0; pass < 8; pass++) {
      const obs = await this.observe(input, knownSp);
      if (!obs.servicePrincipalId) appKeyPending = true; // creating the configuration: set the write-only AppKey once
      const steps = this.plan(input, obs, { sendAppKey: appKeyPending });
      if (steps.length === 0) {
        return {
          servicePrincipalId: obs.servicePrincipalId!,
          provisioningJobId: obs.provisioningJobId!,
          passwordHashJobId: obs.passwordHashJobId,
          exchangeHybridWritebackJobId: obs.exchangeJobId,
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
        if (step.kind === 'put-secrets' && (step.request.body as any)?.value?.some((x: any) => x.key === 'AppKey')) appKeyPending = false;
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
    if (changed) checkScopeSize(schema);
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
          throw new GraphPlanError(
            'WouldWidenScope',
            `Removing ${container}, the last scoped OU, would leave no OU filter: Cloud Sync would then sync the whole domain.`,
          );
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

  /**
   * Explicit, approval-gated removal of one OU from the scope. At the job's next cycle after a restart, Cloud Sync
   * DELETES the objects under it from Entra: users go to the recycle bin, security groups are hard-deleted (no
   * recycle bin). A running job keeps its old scope until restartProvisioningAfterScopeChange (how-to-configure.md).
   */
  async removeContainerFromScope(
    target: ScopeTarget & { container: string },
  ): Promise<{ changed: boolean; includedContainers: string[]; requests: PlannedRequest[] }> {
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
