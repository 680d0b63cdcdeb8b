import { OwnersGroupNotFound, OwnersGroupUnavailable, type OwnersGroupResolver } from './owners.js';

/**
 * cutover's administrators: who may register, rotate and revoke runners (issue 15). Named by the deployment, never by
 * a channel: CUTOVER_ADMINS (Entra object ids) and/or CUTOVER_ADMINS_GROUP (an Entra group whose transitive user
 * members are administrators, read through Graph as owners groups are, in the tenant of the conversation asking).
 *
 * Fail closed: nobody is an administrator when neither is configured, and a person not listed by object id is refused
 * when the group cannot be read now (the reason says so).
 */

export interface AdminsConfig {
  /** Object ids (lower case). */
  oids: string[];
  /** A group's object id, or null. */
  groupId: string | null;
  /** Where this configuration came from, for messages ("the sandbox's Cutover Administrators group"). */
  source?: string;
}

export type AdminVerdict = { admin: true; via: 'listed' | 'group' } | { admin: false; reason: string };

export class Administrators {
  constructor(private readonly d: { config: AdminsConfig; groups?: OwnersGroupResolver }) {}

  get configured(): boolean {
    return this.d.config.oids.length > 0 || !!this.d.config.groupId;
  }

  /** For messages and the README's question "who are the administrators here". */
  describe(): string {
    const c = this.d.config;
    if (!this.configured)
      return 'No cutover administrators are configured (CUTOVER_ADMINS / CUTOVER_ADMINS_GROUP): nobody can register, rotate or revoke runners.';
    const parts = [
      c.oids.length ? `${c.oids.length} listed by object id (CUTOVER_ADMINS)` : '',
      c.groupId ? `the members of the Entra group ${c.groupId} (CUTOVER_ADMINS_GROUP)` : '',
    ].filter(Boolean);
    return `cutover's administrators are ${parts.join(' and ')}${c.source ? ` — ${c.source}` : ''}.`;
  }

  /** Is this person (by Entra object id) an administrator, seen from a conversation of this tenant? */
  async check(tenantId: string, oid: string | undefined | null): Promise<AdminVerdict> {
    const c = this.d.config;
    if (!oid) return { admin: false, reason: 'Your Entra object id is not in this message, so cutover cannot tell whether you are an administrator.' };
    if (!this.configured) return { admin: false, reason: this.describe() };
    const id = oid.toLowerCase();
    if (c.oids.includes(id)) return { admin: true, via: 'listed' };
    if (!c.groupId) return { admin: false, reason: "Only cutover's administrators (CUTOVER_ADMINS) can register, rotate or revoke runners." };
    if (!this.d.groups)
      return {
        admin: false,
        reason: `The administrators group ${c.groupId} cannot be read (no Graph connection): only administrators listed by object id are recognized.`,
      };
    try {
      const g = await this.d.groups.resolve(tenantId, c.groupId);
      if (g.members.some((m) => m.id.toLowerCase() === id)) return { admin: true, via: 'group' };
      return {
        admin: false,
        reason: `Only cutover's administrators (listed in CUTOVER_ADMINS, or members of the group ${g.name ?? c.groupId}) can register, rotate or revoke runners.`,
      };
    } catch (e) {
      if (e instanceof OwnersGroupNotFound)
        return {
          admin: false,
          reason: `Only cutover's administrators can register, rotate or revoke runners (the administrators group ${c.groupId} does not exist in this tenant).`,
        };
      if (e instanceof OwnersGroupUnavailable)
        return {
          admin: false,
          reason: `${e.message.replace('change owners group', 'administrators group')} You are not listed by object id, so you were refused and nothing changed; try again in a few minutes.`,
        };
      throw e;
    }
  }

  /** How many administrators this tenant has (listed + group members), or null when the group cannot be read. */
  async count(tenantId: string): Promise<number | null> {
    const c = this.d.config;
    const all = new Set(c.oids);
    if (c.groupId) {
      if (!this.d.groups) return null;
      try {
        for (const m of (await this.d.groups.resolve(tenantId, c.groupId)).members) all.add(m.id.toLowerCase());
      } catch (e) {
        if (e instanceof OwnersGroupNotFound) return all.size;
        return null;
      }
    }
    return all.size;
  }
}
