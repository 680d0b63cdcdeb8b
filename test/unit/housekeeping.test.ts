import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { ApprovalHousekeeping } from '../../src/runbooks/housekeeping.js';

const log = createLogger({ level: 'silent' });

describe("approval housekeeping (the runbooks room's schedule)", () => {
  const parts = () => {
    const calls: string[] = [];
    const engine = {
      sweepApprovals: async () => (calls.push('sweep'), { expired: 1, reminded: 2, escalated: 0, started: 0 }),
      settleOrphanedSteps: async () => (calls.push('orphans'), 3),
    };
    const policyChanges = { expireDue: async () => (calls.push('policy'), 4) };
    return { calls, engine, policyChanges };
  };

  it('sweeps approvals, lost steps and expired policy changes, then runs its after-hook', async () => {
    const { calls, engine, policyChanges } = parts();
    const h = new ApprovalHousekeeping({ engine, policyChanges, log, after: async () => calls.push('after') });
    expect(await h.runOnce()).toEqual({ approvals: { expired: 1, reminded: 2, escalated: 0, started: 0, orphaned: 3, policyChangesExpired: 4 } });
    expect(calls).toEqual(['sweep', 'orphans', 'policy', 'after']);
  });

  it('runs on schedule only while this process holds the lease', async () => {
    const { calls, engine } = parts();
    let held = false;
    const h = new ApprovalHousekeeping({ engine, log, lease: { acquire: async () => held } });
    expect(await h.runScheduled()).toBeNull();
    expect(calls).toEqual([]);
    held = true;
    expect(await h.runScheduled()).toMatchObject({ approvals: { orphaned: 3, policyChangesExpired: 0 } });
  });
});
