/**
 * What the AD executors (LDAP, and the sandbox's TypeScript executor) conclude from objects they read: a written-back
 * group's place in seed 004's scope, which sync tool made an MSOL_ account. Execution detail of the agent, shared so
 * their results agree.
 */

/** groupType flags (MS-ADTS 2.2.12): scope bits and the security bit. */
export const GROUP_TYPE = { global: 0x2, domainLocal: 0x4, universal: 0x8, security: 0x80000000 } as const;

/** Seed 004's scope, for one group: only cloud-created security groups written back with universal scope. */
export function gwbVerdict(g: {
  adminDescription: string | null;
  mail: string | null;
  groupScope: 'universal' | 'global' | 'domainLocal';
  security: boolean;
}): { writtenBack: boolean; inScope: boolean; reason: string } {
  const writtenBack = (g.adminDescription ?? '').startsWith('Group_');
  if (!writtenBack) return { writtenBack, inScope: false, reason: 'not written back by Connect (no adminDescription Group_…)' };
  if (g.mail) return { writtenBack, inScope: false, reason: 'mail-enabled (a Microsoft 365 group or DL): not supported by this migration' };
  if (!g.security) return { writtenBack, inScope: false, reason: 'a distribution group: not supported by this migration' };
  if (g.groupScope !== 'universal') return { writtenBack, inScope: false, reason: `${g.groupScope} scope: only universal groups are supported` };
  return { writtenBack, inScope: true, reason: 'cloud security group written back as universal' };
}

/**
 * Which sync tool created an MSOL_ service account, from its description. Connect writes "Account created by Microsoft
 * Azure Active Directory Connect with installation identifier … running on computer … configured to synchronize to
 * tenant …"; DirSync's product is the "Windows Azure Active Directory Sync tool" (seed 003, "Uninstall DirSync"), and
 * public accounts show its accounts described as "Account created by the Windows Azure Active Directory Sync tool with
 * installation identifier …" (third-party; Microsoft does not document the text). Azure AD Sync was "Azure Active
 * Directory Sync Services".
 */
export function syncToolOf(
  samAccountName: string,
  description: string | null | undefined,
): { tool: 'dirsync' | 'azure-ad-sync' | 'entra-connect' | 'unknown'; computer: string | null } {
  const d = description ?? '';
  const computer = /running on (?:computer )?['‘"]?([A-Za-z0-9._-]+)/i.exec(d)?.[1] ?? null;
  // DirSync's wizard names its account MSOL_AD_SYNC (Microsoft documents that name; the description text is third-party).
  if (samAccountName.toUpperCase() === 'MSOL_AD_SYNC' || /Directory Sync tool|\bDirSync\b/i.test(d)) return { tool: 'dirsync', computer };
  if (/Active Directory Connect|Azure AD Connect|Entra Connect/i.test(d)) return { tool: 'entra-connect', computer };
  if (/Active Directory Sync Services|Azure AD Sync\b/i.test(d)) return { tool: 'azure-ad-sync', computer };
  return { tool: 'unknown', computer };
}
