import { describe, expect, it } from 'vitest';
import { describeConnectScope, ouInConnectScope, type ConnectScope } from '../../src/runbooks/connect-scope.js';

const ROOT = 'DC=contoso,DC=com';
const PILOT = 'OU=CloudSyncPilot,DC=contoso,DC=com';

/** The shape most Connect servers have: the domain root ticked, a few OUs unticked in the wizard. */
const common = (excluded: string[] = [], extra: Partial<ConnectScope> = {}): ConnectScope => ({
  partitions: [{ name: ROOT, selected: true, includedContainers: [ROOT], excludedContainers: excluded }],
  groupFilteringGroupDn: null,
  ...extra,
});

describe("Connect Sync's scope, read as Connect stores it", () => {
  it('an OU under an included domain root is in scope', () => {
    expect(ouInConnectScope(common(['OU=Service Accounts,DC=contoso,DC=com']), PILOT)).toEqual({ inScope: true });
  });

  it('an OU unticked under the root shows up only as an exclusion, and is out of scope', () => {
    const v = ouInConnectScope(common([PILOT]), PILOT);
    expect(v.inScope).toBe(false);
    expect(v.inScope === false && v.reason).toBe('excluded');
  });

  it('an excluded parent takes the OU out; an excluded child OU makes it not wholly in scope', () => {
    expect(ouInConnectScope(common(['OU=Sales,DC=contoso,DC=com']), 'OU=EMEA,OU=Sales,DC=contoso,DC=com').inScope).toBe(false);
    const v = ouInConnectScope(common(['OU=Contractors,OU=Sales,DC=contoso,DC=com']), 'OU=Sales,DC=contoso,DC=com');
    expect(v.inScope).toBe(false);
    expect(v.inScope === false && v.detail).toContain('OU=Contractors');
  });

  it('a child OU ticked again under an unticked parent is in scope (the nearest setting wins)', () => {
    const scope: ConnectScope = {
      partitions: [
        { name: ROOT, selected: true, includedContainers: [ROOT, 'OU=EMEA,OU=Sales,DC=contoso,DC=com'], excludedContainers: ['OU=Sales,DC=contoso,DC=com'] },
      ],
    };
    expect(ouInConnectScope(scope, 'OU=EMEA,OU=Sales,DC=contoso,DC=com')).toEqual({ inScope: true });
  });

  it('a partition that is not selected, or group-based filtering, keeps the OU out', () => {
    const unselected: ConnectScope = { partitions: [{ name: ROOT, selected: false, includedContainers: [ROOT], excludedContainers: [] }] };
    expect(ouInConnectScope(unselected, PILOT)).toMatchObject({ inScope: false, reason: 'partition-not-selected' });
    expect(ouInConnectScope(common([], { groupFilteringGroupDn: 'CN=Pilot,OU=Groups,DC=contoso,DC=com' }), PILOT)).toMatchObject({
      inScope: false,
      reason: 'group-filtering',
    });
  });

  it('an OU of another domain is in no partition', () => {
    expect(ouInConnectScope(common(), 'OU=Pilot,DC=fabrikam,DC=com')).toMatchObject({ inScope: false, reason: 'not-included' });
  });

  it('the older flattened shape (inclusion list only) still reads', () => {
    expect(ouInConnectScope({ includedContainers: [PILOT] }, PILOT)).toEqual({ inScope: true });
    expect(ouInConnectScope({ includedContainers: ['OU=Other,DC=contoso,DC=com'] }, PILOT).inScope).toBe(false);
  });

  it('describes the scope in one line', () => {
    expect(describeConnectScope(common([PILOT]))).toBe(`${ROOT}: included: ${ROOT}; excluded: ${PILOT}`);
  });
});
