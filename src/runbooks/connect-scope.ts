import { isUnder, isValidDn, normalizeDn } from '../dn.js';

/**
 * Connect Sync's AD connector scope as Connect stores it (the runner's `get-connector-scope`): per partition
 * whether it is selected, its included and excluded containers, and group-based filtering. The usual shape is
 * "domain root included, some OUs unticked", so an OU that leaves scope shows up only as an exclusion.
 */
export interface ConnectScope {
  partitions?: Array<{ name: string; selected: boolean; includedContainers: string[]; excludedContainers: string[] }>;
  groupFilteringGroupDn?: string | null;
  /** Older result shape (flattened): used only when `partitions` is absent. */
  includedContainers?: string[];
  excludedContainers?: string[];
}

export type ScopeVerdict =
  { inScope: true } | { inScope: false; reason: 'partition-not-selected' | 'not-included' | 'excluded' | 'group-filtering'; detail: string };

function partitionsOf(scope: ConnectScope): NonNullable<ConnectScope['partitions']> {
  if (scope.partitions?.length) return scope.partitions;
  return [{ name: '', selected: true, includedContainers: scope.includedContainers ?? [], excludedContainers: scope.excludedContainers ?? [] }];
}

const under = (dn: string, container: string) => isValidDn(container) && isUnder(dn, container);

/**
 * Whether every object under `ou` is in Connect Sync's scope. Group-based filtering (a pilot-only feature of the
 * wizard) keeps only the group's members in scope, so with it on an OU is never wholly in scope.
 */
export function ouInConnectScope(scope: ConnectScope, ou: string): ScopeVerdict {
  const parts = partitionsOf(scope);
  const partition = parts.find((p) => p.name && isValidDn(p.name) && isUnder(ou, p.name)) ?? (parts.length === 1 && !parts[0].name ? parts[0] : undefined);
  if (!partition) return { inScope: false, reason: 'not-included', detail: `no partition of the AD connector holds ${ou}` };
  if (!partition.selected)
    return { inScope: false, reason: 'partition-not-selected', detail: `the partition ${partition.name} is not selected on the AD connector` };
  const inclusion = partition.includedContainers.filter((c) => under(ou, c)).sort((a, b) => normalizeDn(b).length - normalizeDn(a).length)[0];
  if (!inclusion) return { inScope: false, reason: 'not-included', detail: `no included container of the AD connector holds ${ou}` };
  // The nearest exclusion above the OU, or one below it, takes objects out (an exclusion inside an inclusion wins).
  const excluded = partition.excludedContainers.find((c) => under(ou, c) && normalizeDn(c).length >= normalizeDn(inclusion).length);
  if (excluded)
    return {
      inScope: false,
      reason: 'excluded',
      detail: `${excluded === ou || normalizeDn(excluded) === normalizeDn(ou) ? ou : `its parent ${excluded}`} is excluded from the AD connector's scope`,
    };
  const inside = partition.excludedContainers.find((c) => isValidDn(c) && normalizeDn(c) !== normalizeDn(ou) && isUnder(c, ou));
  if (inside) return { inScope: false, reason: 'excluded', detail: `${inside}, inside it, is excluded from the AD connector's scope` };
  if (scope.groupFilteringGroupDn)
    return {
      inScope: false,
      reason: 'group-filtering',
      detail: `group-based filtering is on (${scope.groupFilteringGroupDn}): only that group's members are in scope`,
    };
  return { inScope: true };
}

/** One line describing the scope, for cards and alerts. */
export function describeConnectScope(scope: ConnectScope): string {
  const parts = partitionsOf(scope).map((p) => {
    const inc = p.includedContainers.length ? p.includedContainers.join('; ') : '(nothing)';
    const exc = p.excludedContainers.length ? `; excluded: ${p.excludedContainers.join('; ')}` : '';
    return `${p.name ? `${p.name}${p.selected ? '' : ' (not selected)'}: ` : ''}included: ${inc}${exc}`;
  });
  if (scope.groupFilteringGroupDn) parts.push(`group filtering: ${scope.groupFilteringGroupDn}`);
  return parts.join(' · ');
}

/** Is this object DN in Connect's scope (the same rules, for one object; group filtering not decidable here)? */
export function objectInConnectScope(scope: ConnectScope, dn: string): boolean {
  const v = ouInConnectScope({ ...scope, groupFilteringGroupDn: null }, dn);
  return v.inScope;
}
