import { createHash } from 'node:crypto';
import { ActionError, NOFLOW_OBJECT_TYPES, type NoFlowObjectType } from '../../actions/index.js';

/**
 * How the ADSync executors name, plan and place cutover's sync rules (the PowerShell executor hands the plan to its
 * scripts; the sandbox's TypeScript executor carries it out itself), so that every executor creates the same rules
 * with the same identifiers. Execution detail of the agent, not part of the actions' contract: the control plane and
 * the runbooks never compute a rule identifier.
 */

// ---------------------------------------------------------------- deterministic rule identifiers

/** Namespace for cutover's rule identifiers (a fixed random UUID). */
export const RULE_NAMESPACE = '6c1f0f4e-5d0a-4b8e-9a44-0d6e3b1f2a7c';

/** RFC 4122 version-5 UUID (SHA-1, namespace + name): the same migration/batch/type always names the same rule. */
export function uuidV5(name: string, namespace = RULE_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export type NoFlowDirection = 'inbound' | 'outbound';

/** One rule per object type and direction per migration, whatever its batch count. */
export function noFlowRuleId(migrationId: string, objectType: NoFlowObjectType, direction: NoFlowDirection): string {
  return uuidV5(`cutover/noflow/${migrationId}/${objectType}/${direction}`);
}

/** The per-batch identifiers earlier cutover versions used (remove-noflow-rules still removes them). */
export function legacyNoFlowRuleId(migrationId: string, batch: number, objectType: string, direction: NoFlowDirection): string {
  return uuidV5(`cutover/noflow/${migrationId}/${batch}/${objectType}/${direction}`);
}

/** Every identifier a migration's no-flow rules can have (current scheme). */
export function noFlowRuleIds(migrationId: string): string[] {
  return NOFLOW_OBJECT_TYPES.flatMap((t) => (['inbound', 'outbound'] as const).map((d) => noFlowRuleId(migrationId, t, d)));
}

/**
 * Rule names of the earlier per-batch scheme end with this text followed by the batch number and ')'; together with
 * IsStandardRule false that is how remove-noflow-rules recognises them without enumerating every possible batch.
 */
export function legacyNoFlowNameMarker(migrationId: string): string {
  return ` (cutover ${migrationId} batch `;
}

export function groupWritebackRuleId(migrationId: string, direction: NoFlowDirection): string {
  return uuidV5(`cutover/gwb-noflow/${migrationId}/${direction}`);
}

/** The planned rule pair for one object type: what every ADSync executor creates, so their results agree. */
export interface PlannedRule {
  identifier: string;
  name: string;
  direction: 'Inbound' | 'Outbound';
  objectType: NoFlowObjectType;
  sourceObjectType: string;
  targetObjectType: string;
  /** 'ad' or 'entra': which connector the rule is on. */
  connector: 'ad' | 'entra';
  linkType: 'Join' | 'JoinNoFlow';
  /** Scope condition groups: ORed; the conditions inside one group are ANDed. */
  scope: Array<Array<{ attribute: string; value: string; operator: string }>>;
  flowsCloudNoFlow: boolean;
}

/**
 * Connect's types: In from AD user→person, inetOrgPerson→person, contact→person, group→group; out to AAD person→user
 * (users and inetOrgPersons), person→contact, group→group (out-of-box rules "In from AD - InetOrgPerson Join",
 * "Out to AAD - User Join", "Out to AAD - Contact Join", "Out to AAD - Group Join").
 */
const NOFLOW_TYPES: Record<NoFlowObjectType, { mv: string; entra: string; label: string }> = {
  user: { mv: 'person', entra: 'user', label: 'User' },
  inetOrgPerson: { mv: 'person', entra: 'user', label: 'InetOrgPerson' },
  group: { mv: 'group', entra: 'group', label: 'Group' },
  contact: { mv: 'person', entra: 'contact', label: 'Contact' },
};

/** The migration's no-flow rules: per type one inbound rule (one `dn ENDSWITH` group per OU) and one outbound rule. */
export function planNoFlowRules(p: { migrationId: string; ous: string[]; objectTypes: NoFlowObjectType[] }): PlannedRule[] {
  const out: PlannedRule[] = [];
  for (const t of p.objectTypes) {
    const { mv, entra, label } = NOFLOW_TYPES[t];
    out.push({
      identifier: noFlowRuleId(p.migrationId, t, 'inbound'),
      name: `In from AD - ${label} cloudNoFlow (cutover ${p.migrationId})`,
      direction: 'Inbound',
      objectType: t,
      sourceObjectType: t,
      targetObjectType: mv,
      connector: 'ad',
      linkType: 'Join',
      scope: p.ous.map((ou) => [{ attribute: 'dn', value: ou, operator: 'ENDSWITH' }]),
      flowsCloudNoFlow: true,
    });
    out.push({
      identifier: noFlowRuleId(p.migrationId, t, 'outbound'),
      name: `Out to AAD - ${label} JoinNoFlow (cutover ${p.migrationId})`,
      direction: 'Outbound',
      objectType: t,
      sourceObjectType: mv,
      targetObjectType: entra,
      connector: 'entra',
      linkType: 'JoinNoFlow',
      scope: [[{ attribute: 'cloudNoFlow', value: 'true', operator: 'EQUAL' }]],
      flowsCloudNoFlow: false,
    });
  }
  return out;
}

export function planGroupWritebackRules(migrationId: string): PlannedRule[] {
  return [
    {
      identifier: groupWritebackRuleId(migrationId, 'inbound'),
      name: 'In from AAD - Group SOAinAAD coexistence with Cloud Sync',
      direction: 'Inbound',
      objectType: 'group',
      sourceObjectType: 'group',
      targetObjectType: 'group',
      connector: 'entra',
      linkType: 'Join',
      scope: [
        [
          { attribute: 'cloudMastered', value: 'true', operator: 'EQUAL' },
          { attribute: 'mail', value: '', operator: 'ISNULL' },
        ],
      ],
      flowsCloudNoFlow: true,
    },
    {
      identifier: groupWritebackRuleId(migrationId, 'outbound'),
      name: 'Out to AD - Group SOAinAAD coexistence with Cloud Sync',
      direction: 'Outbound',
      objectType: 'group',
      sourceObjectType: 'group',
      targetObjectType: 'group',
      connector: 'ad',
      linkType: 'JoinNoFlow',
      scope: [[{ attribute: 'cloudNoFlow', value: 'true', operator: 'EQUAL' }]],
      flowsCloudNoFlow: false,
    },
  ];
}

/**
 * Chooses precedences for n new rules: the requested start (all n consecutive values must be free), or else the
 * lowest free consecutive block at or above 20 (below that is where admins usually keep their own rules).
 */
export function allocatePrecedences(used: Set<number>, n: number, requested?: number): number[] {
  const block = (start: number) => Array.from({ length: n }, (_, i) => start + i);
  const free = (start: number) => start >= 0 && start + n - 1 <= 99 && block(start).every((p) => !used.has(p));
  if (requested !== undefined) {
    if (!free(requested)) {
      const taken = block(requested).filter((p) => used.has(p) || p > 99);
      throw new ActionError('conflict', `precedence ${requested}..${requested + n - 1} is not free (taken or out of 0-99: ${taken.join(', ')})`);
    }
    return block(requested);
  }
  for (const start of [...Array(100).keys()].map((i) => (i + 20) % 100)) if (free(start)) return block(start);
  throw new ActionError('conflict', `no ${n} consecutive free precedences in 0-99`);
}
