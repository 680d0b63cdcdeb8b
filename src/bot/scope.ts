import type { Migration, RunbookEngine } from '../runbooks/engine.js';

/**
 * Where a turn comes from (its Entra tenant and its conversation), and the one check of what it may see and act on:
 * a channel sees its own tenant's migrations, alerts and runner requests, in its own channel. The bot resolves the
 * scope once per turn and checks a command's or a click's subject before dispatch; handlers never check again.
 */

/** The Entra tenant of an activity: what a channel may see and act on is that tenant's (MSP deployments). */
export function tenantOf(activity: { conversation?: { tenantId?: string }; channelData?: unknown }): string {
  // An activity without a tenant id is refused before it gets here (http.ts): never mapped to a default tenant.
  const t = activity.conversation?.tenantId ?? (activity.channelData as any)?.tenant?.id;
  if (typeof t !== 'string' || !t) throw new Error('activity without a tenant id');
  return t;
}

/** Teams thread ids carry ;messageid=…: a migration started in a thread belongs to the whole channel. */
export function sameConversation(a: string, b: string): boolean {
  return a.split(';')[0] === b.split(';')[0];
}

/** Where a subject lives: its tenant, and the conversations it belongs to (none: any conversation of its tenant). */
export interface Place {
  tenantId: string;
  conversations: readonly string[];
}

/** The verdict of the check: here, or why not (each handler words the refusal its own way). */
export type Verdict = 'here' | 'missing' | 'other-tenant' | 'other-conversation';

export class Scope {
  constructor(
    readonly tenantId: string,
    /** The turn's conversation (a click may come without one: then only the tenant is checked). */
    readonly conversationId: string | undefined,
    private readonly engine: Pick<RunbookEngine, 'listMigrations'>,
  ) {}

  /** The check: a subject of another tenant, or of another conversation than this one, is not here. */
  verdict(place: Place | null): Verdict {
    if (!place) return 'missing';
    if (place.tenantId !== this.tenantId) return 'other-tenant';
    const here = this.conversationId;
    if (here && place.conversations.length && !place.conversations.some((c) => sameConversation(c, here))) return 'other-conversation';
    return 'here';
  }

  /** What of a list is this tenant's (an owner in several customers' tenants sees, in each, only that tenant's). */
  ofTenant<T>(xs: T[], tenantOf: (x: T) => string): T[] {
    return xs.filter((x) => tenantOf(x) === this.tenantId);
  }

  /**
   * The migrations of this conversation's channel and tenant. In a Teams channel each post is its own conversation
   * (`19:…@thread.tacv2;messageid=<post>`), so `status` said in a new post must still find the migration started in
   * another post of the same channel.
   */
  async migrations(): Promise<Migration[]> {
    return (await this.#channelMigrations()).filter((m) => this.verdict(placeOfMigration(m)) === 'here');
  }

  /** A migration of this channel by id or name (case-insensitive), the newest when names repeat; another tenant's is none. */
  async find(ref: string): Promise<Migration | null> {
    const name = ref.toLowerCase();
    const m = (await this.#channelMigrations()).filter((x) => x.id === ref || x.name.toLowerCase() === name).at(-1) ?? null;
    return m && this.verdict(placeOfMigration(m)) === 'here' ? m : null;
  }

  /** `status [migration]`, `jobs [migration]`: the one named, or all of this channel. */
  async resolve(ref?: string): Promise<Migration[]> {
    if (ref) {
      const m = await this.find(ref);
      return m ? [m] : [];
    }
    return this.migrations();
  }

  async #channelMigrations(): Promise<Migration[]> {
    const here = this.conversationId;
    return (await this.engine.listMigrations()).filter((m) => !!m.conversationId && !!here && sameConversation(m.conversationId, here));
  }
}

export function placeOfMigration(m: Migration | null): Place | null {
  return m ? { tenantId: m.tenantId, conversations: m.conversationId ? [m.conversationId] : [] } : null;
}
