/**
 * The seams of the simulated tenant. The on-premises side (Active Directory + the Connect Sync
 * server, src/sandbox/onprem/) and the cloud side (the Graph simulator, src/sandbox/graph/) never
 * import each other: src/sandbox/tenant.ts wires them through these interfaces.
 */

/**
 * AD object classes the sync engines handle. inetOrgPerson is a subclass of user in the AD schema (an LDAP
 * `(objectClass=user)` filter matches it); Connect maps it to the metaverse `person` type like user
 * (out-of-box rule "In from AD - InetOrgPerson Join").
 */
export type AdObjectClass = 'user' | 'inetOrgPerson' | 'group' | 'contact';

/** An object as Active Directory holds it (the attributes the migration cares about). */
export interface AdObject {
  objectGUID: string; // GUID string, e.g. '3f2504e0-4f89-11d3-9a0c-0305e82c3301'
  dn: string;
  objectClass: AdObjectClass;
  displayName: string;
  samAccountName?: string;
  userPrincipalName?: string;
  mail?: string;
  mailNickname?: string;
  proxyAddresses: string[];
  /** ms-DS-ConsistencyGuid as a GUID string; the source anchor when set. */
  consistencyGuid?: string;
  /** Group members, by DN. */
  members?: string[];
  adminDescription?: string;
  externalDirectoryObjectId?: string;
  /** Group type flags: universal security groups are what GWB v2 wrote back. */
  groupScope?: 'universal' | 'global' | 'domainLocal';
  securityEnabled?: boolean;
  description?: string;
  /** ISO time the object was created (whenCreated). */
  whenCreated?: string;
}

/** Which engine exports an object to Entra ID (sandbox bookkeeping, exposed by /sandbox/v1/state). */
export type SyncEngine = 'connect' | 'cloud';

/** The Entra directory as the sync engines write to it. Implemented by the Graph simulator. */
export interface EntraSyncTarget {
  /**
   * Create or update the Entra object for an AD object. Matching is by source anchor
   * (onPremisesImmutableId = base64 of consistencyGuid ?? objectGUID, as Connect and Cloud Sync do),
   * so two engines exporting the same AD object never make two Entra objects.
   */
  upsertFromOnPrem(obj: AdObject, engine: SyncEngine, domainFqdn: string): void;
  /** Delete the Entra object that this engine exported for an AD object (a delete export). */
  deleteFromOnPrem(objectGUID: string, engine: SyncEngine): void;
  /** Remove group-membership references to these AD objects (a reference-delete export). */
  removeMembershipReferences(objectGUIDs: string[], engine: SyncEngine): void;
  /** The engine that last exported the object, if it exists in Entra. */
  exportedBy(objectGUID: string): SyncEngine | undefined;
  /**
   * Password hash sync: this engine wrote the current password hashes of these AD users to Entra at `now`.
   * Connect's PHS runs while its ADSync service runs, whatever its scheduler says; Cloud Sync's only with the
   * CredentialData mapping in the job's schema and the AD2AADPasswordHash job running.
   */
  syncPasswordHashes(objectGUIDs: string[], engine: SyncEngine, now: Date): void;
  /** A sync engine finished exporting (a directory sync): Entra ID's organization shows it as onPremisesLastSyncDateTime. */
  syncCompleted?(engine: SyncEngine, now: Date): void;
}

/** What Cloud Sync's provisioning agent reads from Active Directory. Implemented by the AD model. */
export interface OnPremDirectory {
  readonly domainFqdn: string;
  /** Objects at or below any of these container DNs (case-insensitive, DN-exact), of these classes. */
  objectsUnder(containerDns: string[], classes: AdObjectClass[]): AdObject[];
  get(objectGUID: string): AdObject | undefined;
}

export { immutableIdOf, sourceAnchorOf } from '../identity.js';
