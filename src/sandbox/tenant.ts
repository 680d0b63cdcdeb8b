import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { isValidDn } from '../dn.js';
import { GraphSimulator } from './graph/index.js';
import { addForestDomain, installSyncTool, seedContosoForest, type ContosoForest } from './onprem/index.js';

/**
 * The simulated tenant behind `npm start`: contoso.com's Active Directory and its Connect Sync
 * server on one side, the Graph simulator (Entra ID + Cloud Sync) on the other, wired through the
 * contracts in contracts.ts. Rehearsal, not a mock: the same Graph calls and runner actions as production.
 */
export const SANDBOX_TENANT_ID = '7f3b9c2e-1d4a-4e8b-9c6f-2a5d8e1b3c70';

/** The simulated tenants, in order: SANDBOX_TENANTS=2 adds fabrikam.com (one deployment, several customers). */
export const SANDBOX_TENANTS = [
  { tenantId: SANDBOX_TENANT_ID, domain: 'contoso.com', seed: 20261121 },
  { tenantId: '3c1d5e7a-9b2f-4c8d-a6e0-5f4b2d8c9e11', domain: 'fabrikam.com', seed: 20261122 },
] as const;

/**
 * The Agents Playground's people (.m365agentsplayground.yml) as cloud users of contoso.com's Entra ID, and a
 * "Cutover Change Owners" security group for `ownersGroup=`: Megan directly, Lee through the nested "Identity
 * Operations" group. Alex (the requester) and Pat (the bystander) are not members.
 */
export const SANDBOX_PEOPLE = [
  { oid: '2d4a6c8e-1b3d-4f5a-9c7e-0a1b2c3d4e10', upn: 'alexw@contoso.com', name: 'Alex Wilber' },
  { oid: '6f1c2a43-8d6e-4b0a-9c57-2e1d3b4a5c01', upn: 'meganb@contoso.com', name: 'Megan Bowen' },
  { oid: '0b8e7d12-3c4f-4e6a-8b9d-5f7a1c2e3d02', upn: 'leeg@contoso.com', name: 'Lee Gu' },
  { oid: '4c9d2e7a-5b1f-4a3c-8e6d-7f2a9b0c1d03', upn: 'patj@contoso.com', name: 'Pat Jensen' },
  { oid: '8e2f4a6c-9d1b-4c3e-a5f7-3b4c5d6e7f04', upn: 'adelev@contoso.com', name: 'Adele Vance' },
  { oid: '1a3b5c7d-2e4f-4a6b-8c0d-9e8f7a6b5c05', upn: 'isaiahl@contoso.com', name: 'Isaiah Langer' },
] as const;
export const SANDBOX_OWNERS_GROUP = { id: '5e1f0c3a-7b2d-4c9e-8a61-3d2b4f6e8c90', name: 'Cutover Change Owners' } as const;
export const SANDBOX_IDENTITY_OPS_GROUP = { id: '9a7b5c3d-1e2f-4a6b-8c9d-0e1f2a3b4c07', name: 'Identity Operations' } as const;
/**
 * cutover's administrators in the sandbox (CUTOVER_ADMINS_GROUP by default there): Alex and Megan, so the Playground's
 * people can add a runner (one asks, the other approves). Lee and Pat are not administrators.
 */
export const SANDBOX_ADMINS_GROUP = { id: 'c7a1e5d3-2b4f-4e6a-9c8d-1f2e3d4c5b08', name: 'Cutover Administrators' } as const;

function seedPeople(graph: GraphSimulator): void {
  for (const p of SANDBOX_PEOPLE) graph.addCloudUser(p.upn, p.name, p.oid);
  const megan = SANDBOX_PEOPLE[1].oid;
  const lee = SANDBOX_PEOPLE[2].oid;
  graph.addCloudGroup(SANDBOX_IDENTITY_OPS_GROUP.name, [lee], SANDBOX_IDENTITY_OPS_GROUP.id);
  graph.addCloudGroup(SANDBOX_OWNERS_GROUP.name, [megan, SANDBOX_IDENTITY_OPS_GROUP.id], SANDBOX_OWNERS_GROUP.id);
  graph.addCloudGroup(SANDBOX_ADMINS_GROUP.name, [SANDBOX_PEOPLE[0].oid, megan], SANDBOX_ADMINS_GROUP.id);
}

export const faultSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('quarantine'),
    reason: z.enum([
      'EncounteredBaseEscrowThreshold',
      'EncounteredTotalEscrowThreshold',
      'EncounteredEscrowProportionThreshold',
      'EncounteredQuarantineException',
      'Unknown',
      'QuarantinedOnDemand',
      'TooManyDeletes',
      'IngestionInterrupted',
    ]),
    jobId: z.string().max(200).optional(),
  }),
  z.object({ kind: z.literal('count-drift'), ou: z.string().max(2048).refine(isValidDn, 'must be a valid DN'), missing: z.number().int().min(1).max(100_000) }),
  z.object({
    kind: z.literal('graph-storm'),
    status: z.union([z.literal(429), z.literal(500), z.literal(503), z.literal(504)]),
    count: z.number().int().min(1).max(10_000),
    retryAfterSeconds: z.number().min(0).max(60).optional(),
  }),
  z.object({ kind: z.literal('agent'), status: z.enum(['active', 'inactive']) }),
  z.object({ kind: z.literal('connect-scope-remove'), ou: z.string().max(2048).refine(isValidDn, 'must be a valid DN') }),
  /** Rehearse another incumbent: the forest synchronized by DirSync (its MSOL_AD_SYNC account) instead of Entra Connect. */
  z.object({ kind: z.literal('sync-tool'), tool: z.enum(['dirsync', 'entra-connect']), replace: z.boolean().default(true) }),
  /** Another domain of the forest with this many users (DirSync counts the whole forest). */
  z.object({
    kind: z.literal('forest-domain'),
    domain: z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i),
    users: z.number().int().min(0).max(200_000),
  }),
  z.object({ kind: z.literal('clear') }),
]);
export type Fault = z.infer<typeof faultSchema>;

export class SandboxTenant {
  #timer: NodeJS.Timeout | null = null;
  #agentId: string;

  private constructor(
    readonly graph: GraphSimulator,
    readonly forest: ContosoForest,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly tenantId: string = SANDBOX_TENANT_ID,
    readonly domain: string = 'contoso.com',
  ) {
    this.#agentId = graph.seedAgent({ machineName: `CONNECT01.${domain}`, domain, status: 'active' }).id;
  }

  /** contoso.com by default; `index` 1 is fabrikam.com (see SANDBOX_TENANTS). */
  static async start(opts: { clock: Clock; log: Logger; port?: number; index?: number }): Promise<SandboxTenant> {
    const t = SANDBOX_TENANTS[opts.index ?? 0];
    if (!t) throw new Error(`there are ${SANDBOX_TENANTS.length} sandbox tenants`);
    const log = opts.log.child({ tenantId: t.tenantId });
    const graph = new GraphSimulator({ clock: opts.clock, log: log.child({ component: 'graph-simulator' }), tenantId: t.tenantId });
    // Connect Sync is the incumbent: its first cycle exports the forest before anyone migrates anything.
    const forest = seedContosoForest({ target: graph, now: opts.clock.now(), domain: t.domain, ...(t.seed === 20261121 ? {} : { seed: t.seed }) });
    graph.attachOnPrem(forest.ad);
    // The tenant's domains in Entra ID: the initial onmicrosoft.com one, and the forest's domain, verified.
    graph.addDomain(`${t.domain.split('.')[0]}.onmicrosoft.com`, { initial: true, isDefault: false });
    graph.addDomain(t.domain, { verified: true, isDefault: true });
    if (t.tenantId === SANDBOX_TENANT_ID) seedPeople(graph);
    await graph.start(opts.port ?? 0);
    return new SandboxTenant(graph, forest, opts.clock, log, t.tenantId, t.domain);
  }

  get graphBaseUrl(): string {
    return this.graph.baseUrl;
  }

  /** Time passes in the simulated tenant: Connect's scheduled cycle when due, Cloud Sync's cycle. */
  tick(): { connect: unknown; cloud: unknown } {
    const now = this.clock.now();
    const connect = this.forest.server.tick(now);
    const cloud = this.graph.runSyncCycle(now);
    return { connect: connect ? { policyType: connect.PolicyType, result: connect.Result, exported: connect.exported } : null, cloud };
  }

  startTimer(ms: number): void {
    if (ms <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      try {
        this.tick();
      } catch (err) {
        this.log.error({ err }, 'sandbox tick failed');
      }
    }, ms);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.graph.stop();
  }

  /** Faults for tests and demos; each returns what it did. */
  injectFault(f: Fault): Record<string, unknown> {
    switch (f.kind) {
      case 'quarantine': {
        const jobs = this.graph.summary().jobs.filter((j) => j.templateId === 'AD2AADProvisioning');
        const job = f.jobId ? jobs.find((j) => j.jobId === f.jobId) : jobs[0];
        if (!job) throw new FaultError('There is no Cloud Sync provisioning job yet: configure Cloud Sync first.');
        this.graph.injectQuarantine(job.jobId, f.reason, { code: quarantineErrorCode(f.reason), message: `Injected by the sandbox: ${f.reason}.` });
        return { quarantined: job.jobId, reason: f.reason };
      }
      case 'count-drift': {
        const removed = this.graph.removeUsersUnder(f.ou, f.missing);
        return { removedFromEntra: removed.length, ou: f.ou, note: 'Cloud Sync re-provisions them at its next cycle if the OU is in its scope.' };
      }
      case 'graph-storm':
        this.graph.injectFault({ status: f.status, count: f.count, retryAfterSeconds: f.retryAfterSeconds ?? 1 });
        return { storm: f.status, count: f.count };
      case 'agent':
        this.graph.setAgentStatus(this.#agentId, f.status);
        return { agent: `CONNECT01.${this.domain}`, status: f.status };
      case 'connect-scope-remove':
        // What the wizard's "Domain and OU filtering" does when the OU is unticked under a ticked parent: the OU goes
        // into ContainerExclusionList (and out of ContainerInclusionList if it was listed there itself).
        this.forest.server.excludeContainer(f.ou);
        return { removedFromConnectScope: f.ou, note: 'Takes effect at the next Connect Sync cycle.' };
      case 'sync-tool': {
        const account = installSyncTool(this.forest.ad, f.tool, this.clock.now(), f.tool === 'dirsync' ? 'DIRSYNC01' : 'CONNECT02', f.replace);
        return { syncTool: f.tool, serviceAccount: account.samAccountName, dn: account.dn };
      }
      case 'forest-domain': {
        if (this.forest.ad.otherDomains.some((d) => d.domainFqdn === f.domain.toLowerCase()) || f.domain.toLowerCase() === this.forest.ad.domainFqdn)
          throw new Error(`${f.domain} is already a domain of the forest`);
        const d = addForestDomain(this.forest.ad, f.domain, f.users);
        return { domain: d.domainFqdn, users: f.users };
      }
      case 'clear':
        this.graph.clearFaults();
        this.graph.setAgentStatus(this.#agentId, 'active');
        return { cleared: true };
    }
  }

  state(): Record<string, unknown> {
    const g = this.graph.summary();
    const server = this.forest.server;
    const ous = Object.entries(this.forest.ous).map(([name, dn]) => {
      const users = this.forest.ad.objectsUnder([dn], ['user', 'inetOrgPerson']);
      const exportedBy = { connect: 0, cloud: 0, missing: 0 };
      for (const u of users) exportedBy[this.graph.exportedBy(u.objectGUID) ?? 'missing']++;
      return {
        name,
        dn,
        adUsers: users.length,
        entraUsers: exportedBy.connect + exportedBy.cloud,
        exportedBy,
        // Partition selected, under an included container and not a more specific excluded one, no group filter.
        inConnectScope: server.ouInScope(dn),
      };
    });
    return {
      tenantId: this.tenantId,
      domain: this.domain,
      graph: { baseUrl: this.graph.baseUrl, users: g.users, groups: g.groups, byEngine: g.byEngine },
      ous,
      scheduler: server.getScheduler(),
      adsyncService: server.adsyncService(),
      connectScope: { partitions: structuredClone(server.adConnector.Partitions), groupFilteringGroupDn: server.adConnector.GroupFilteringGroupDn },
      rules: server
        .rules()
        .filter((r) => r.Precedence < 100)
        .map((r) => ({ identifier: r.Identifier, name: r.Name, direction: r.Direction, precedence: r.Precedence, linkType: r.LinkType })),
      jobs: g.jobs,
      agents: g.agents,
    };
  }
}

export class FaultError extends Error {}

function quarantineErrorCode(reason: string): string {
  if (reason === 'TooManyDeletes') return 'SyncJobQuarantinedTooManyDeletes';
  if (reason === 'EncounteredQuarantineException') return 'HybridIdentityServiceNoActiveAgents';
  return 'EscrowThresholdExceeded';
}
