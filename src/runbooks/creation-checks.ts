import { domainOfDn, isUnder, isValidDn, normalizeDn } from '../dn.js';
import { runbookOf } from './catalog.js';
import type { Migration, RunbookEngine } from './engine.js';
import { OwnersGroupNotFound, OwnersGroupUnavailable } from './owners.js';
import type { Person } from './types.js';

/**
 * Everything a new migration is checked against before anything is created (issue 15). Each refusal is one line that
 * says what is wrong; nothing is written until every check has passed. Cheap checks first (settings, the store),
 * then Microsoft Graph (people, domains), then the migration's runner on the Connect server (its forest, the OUs).
 */

export interface CreationInput {
  tenantId: string;
  conversationId: string | null;
  requester: Person;
  kind: string;
  name: string;
  domain: string;
  ous: string[];
  /** Listed change owners (lower-case object ids). */
  owners: string[];
  ownersGroup?: string;
  approvals: number;
  /** The runner named with runner=, if any. */
  runner?: string;
  /**
   * Object ids of the conversation's members (the team's roster) when the bot could read it; owners not in it are
   * looked up in the tenant through Graph.
   */
  roster: ReadonlySet<string> | null;
}

/** A user of the tenant as Graph returns it; null: Graph has no user with that object id. */
export type DirectoryUser = { id: string; displayName: string | null; accountEnabled: boolean | null } | null;

/** What the checks need from the world (the composition root provides it over Graph, the runner hub and the settings). */
export interface CreationPorts {
  /** Whether cutover manages this Entra tenant (Graph credentials for it): a reason when it does not. */
  managedTenant(tenantId: string): { managed: true } | { managed: false; reason: string };
  /** The tenant's domains (Graph GET /domains). Throws when Graph cannot be read. */
  domains(tenantId: string): Promise<{ id: string; isVerified: boolean }[]>;
  /** A user of the tenant by object id (Graph GET /users/{id}); null when there is none. Throws when Graph cannot be read. */
  user(tenantId: string, oid: string): Promise<DirectoryUser>;
  /** The tenant's usable runners (not revoked, not expired unclaimed). */
  runners(tenantId: string): Promise<{ name: string }[]>;
  /** A read on one runner (by name); throws an error with `code` when the runner answered with a failure. */
  runnerRead(tenantId: string, runnerName: string, action: string, params: Record<string, unknown>): Promise<any>;
}

export type CreationVerdict = { ok: true; runnerName: string } | { ok: false; error: string };

/** Teams thread ids carry ;messageid=…: a channel's posts are one conversation for names. */
const channelOf = (c: string | null) => (c ?? '').split(';')[0];

export class CreationChecks {
  constructor(private readonly d: { engine: RunbookEngine; ports: CreationPorts }) {}

  /** Whether cutover can run migrations for this tenant at all: one line when it cannot. */
  async tenantProblem(tenantId: string): Promise<string | null> {
    const t = this.d.ports.managedTenant(tenantId);
    if (!t.managed) return t.reason;
    const runners = await this.d.ports.runners(tenantId);
    if (!runners.length)
      return 'No runner is registered for this tenant, so nothing could run on its Connect server: an administrator says `runner add <name>` (a second administrator approves it) and installs it on the Connect server first.';
    return null;
  }

  /**
   * What the new-migration form can offer before submit: the tenant's verified domains (null when Graph cannot be read
   * now: the form then takes a typed domain, checked at submit) and its runners.
   */
  async formChoices(tenantId: string): Promise<{ domains: string[] | null; runners: string[] }> {
    const runners = (await this.d.ports.runners(tenantId)).map((r) => r.name);
    let domains: string[] | null;
    try {
      // An AD forest's domain is never the tenant's initial *.onmicrosoft.com one.
      domains = (await this.d.ports.domains(tenantId)).filter((d) => d.isVerified && !d.id.endsWith('.onmicrosoft.com')).map((d) => d.id);
    } catch {
      domains = null;
    }
    return { domains, runners };
  }

  /** `batch add`: an OU another active migration of the tenant holds is refused (one active migration per OU). */
  async batchClash(m: Migration, ou: string): Promise<string | null> {
    if (!isValidDn(ou)) return null; // the engine says what is wrong with it
    const others = (await this.d.engine.listMigrations({ state: 'active' })).filter((x) => x.tenantId === m.tenantId && x.id !== m.id);
    return ouClash(others, [ou]);
  }

  async check(i: CreationInput): Promise<CreationVerdict> {
    const refuse = (error: string): CreationVerdict => ({ ok: false, error: `${error} Nothing was created.` });
    const { ports, engine } = this.d;

    // The tenant: cutover holds Graph credentials for it, and it has a runner.
    const managed = ports.managedTenant(i.tenantId);
    if (!managed.managed) return refuse(managed.reason);
    const runners = await ports.runners(i.tenantId);
    if (!runners.length) return refuse((await this.tenantProblem(i.tenantId))!);
    let runnerName: string;
    if (i.runner) {
      const hit = runners.find((r) => r.name.toLowerCase() === i.runner!.toLowerCase());
      if (!hit) return refuse(`There is no runner "${i.runner}" in this tenant (say "runners").`);
      runnerName = hit.name;
    } else if (runners.length > 1) {
      return refuse(
        `This tenant has ${runners.length} runners (${runners.map((r) => r.name).join(', ')}): name the one on this migration's Connect server with runner=<name>.`,
      );
    } else runnerName = runners[0].name;

    // The store: the name in this conversation (a channel's posts are one conversation), the OUs of active migrations.
    const theirs = (await engine.listMigrations()).filter((m) => m.tenantId === i.tenantId);
    if (theirs.some((m) => channelOf(m.conversationId) === channelOf(i.conversationId) && m.name.toLowerCase() === i.name.trim().toLowerCase())) {
      return refuse(`A migration named "${i.name.trim()}" already exists here.`);
    }
    const clash = ouClash(
      theirs.filter((m) => m.state === 'active'),
      i.ous,
    );
    if (clash) return refuse(clash);

    // The owners: real people of the tenant; never the requester alone; the quorum reachable without the requester.
    const requester = i.requester.oid.toLowerCase();
    let groupMembers: string[] = [];
    if (i.ownersGroup) {
      try {
        groupMembers =
          (await engine.ownersGroup({ tenantId: i.tenantId, policy: { owners: i.owners, ownersGroup: i.ownersGroup } as any }))?.members.map((x) =>
            x.id.toLowerCase(),
          ) ?? [];
      } catch (e) {
        if (e instanceof OwnersGroupNotFound) return refuse(e.message);
        if (e instanceof OwnersGroupUnavailable) return refuse(`${e.message} Try again when Graph answers.`);
        throw e;
      }
    }
    const others = new Set([...i.owners, ...groupMembers].filter((o) => o !== requester));
    if (!others.size)
      return refuse('You cannot be the only change owner: nobody else could ever approve a step you ask for (four-eyes). Name at least one other owner.');
    if (i.approvals > others.size) {
      return refuse(
        `${i.approvals} approvals are required but only ${others.size} change owner${others.size === 1 ? '' : 's'} besides you ${others.size === 1 ? 'is' : 'are'} named: the quorum must be reachable without the requester.`,
      );
    }
    for (const oid of i.owners) {
      if (i.roster?.has(oid)) continue;
      let u: DirectoryUser;
      try {
        u = await ports.user(i.tenantId, oid);
      } catch (e: any) {
        return refuse(`The change owner ${oid} is not in this team, and Microsoft Graph could not be asked whether this tenant has such a user (${short(e)}).`);
      }
      if (!u)
        return refuse(`The change owner ${oid} is nobody in this tenant: not a member of this team, and Microsoft Graph has no user with that object id.`);
      if (u.accountEnabled === false)
        return refuse(`The change owner ${u.displayName ?? oid} (${oid}) has a disabled account: they could never approve anything.`);
    }

    // The domain: verified in the tenant (Entra ID).
    let domains: { id: string; isVerified: boolean }[];
    try {
      domains = await ports.domains(i.tenantId);
    } catch (e: any) {
      return refuse(`The tenant's domains could not be read through Microsoft Graph (${short(e)}), so ${i.domain} cannot be checked.`);
    }
    const entry = domains.find((d) => d.id.toLowerCase() === i.domain);
    if (!entry)
      return refuse(
        `${i.domain} is not a domain of this tenant (its verified domains: ${
          domains
            .filter((d) => d.isVerified)
            .map((d) => d.id)
            .join(', ') || 'none'
        }).`,
      );
    if (!entry.isVerified) return refuse(`${i.domain} is not verified in this tenant's Entra ID: verify it first (Entra admin center → Custom domain names).`);

    // The Connect server, through the migration's runner: its forest holds the domain, and each OU exists.
    const askRunner = async (action: string, params: Record<string, unknown>) => ports.runnerRead(i.tenantId, runnerName, action, params);
    let forest: string[];
    try {
      if (runbookOf(i.kind).ous === 'none') forest = [String((await askRunner('ad-domain-summary', {})).domain ?? '').toLowerCase()].filter(Boolean);
      else
        forest = [
          ...new Set(
            ((await askRunner('get-connector-scope', {})).partitions ?? [])
              .map((p: { name: string }) => (isValidDn(p.name) ? domainOfDn(p.name) : ''))
              .filter(Boolean),
          ),
        ] as string[];
    } catch (e: any) {
      return refuse(
        `The runner "${runnerName}" did not answer (${short(e)}), so the domain and the OU cannot be checked on the Connect server. Is it running? (say "runners")`,
      );
    }
    if (!forest.includes(i.domain))
      return refuse(
        `${i.domain} is not a domain of the forest the runner "${runnerName}" sees (${forest.join(', ') || 'none'}): is this the runner on that forest's Connect server?`,
      );
    for (const ou of i.ous) {
      try {
        await askRunner('ad-count', { ou });
      } catch (e: any) {
        if (e?.code === 'not-found') return refuse(`The OU ${ou} does not exist in ${i.domain} (the runner "${runnerName}" looked).`);
        return refuse(`The OU ${ou} could not be checked on the Connect server (${short(e)}).`);
      }
    }
    return { ok: true, runnerName };
  }
}

/** The first OU that another active migration of the tenant already covers (the same OU, or one inside the other). */
export function ouClash(active: Migration[], ous: string[]): string | null {
  for (const ou of ous) {
    for (const m of active) {
      const hit = m.ous.find((o) => normalizeDn(o) === normalizeDn(ou) || isUnder(o, ou) || isUnder(ou, o));
      if (hit) return `${ou} is already in "${m.name}" (${normalizeDn(hit) === normalizeDn(ou) ? 'the same OU' : hit}): one active migration per OU.`;
    }
  }
  return null;
}

function short(e: any): string {
  return String(e?.message ?? e)
    .replace(/\s+/g, ' ')
    .slice(0, 200);
}
