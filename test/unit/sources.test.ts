import { describe, expect, it } from 'vitest';
import { DOCUMENTS, SEED_DOCUMENTS, citations, withoutSeedNumbers } from '../../src/runbooks/sources.js';
import { RUNBOOKS } from '../../src/runbooks/catalog.js';

describe('sources: documents by title, with links, never seed numbers', () => {
  it('turns seed references and page file names into titled links', () => {
    expect(citations('seed 000/001, "Stop the scheduler" (Set-ADSyncScheduler -SyncCycleEnabled $false)')).toEqual([
      {
        text: 'Migrate Microsoft Entra Connect to Microsoft Entra Cloud Sync',
        url: 'https://learn.microsoft.com/entra/identity/hybrid/cloud-sync/migrate-azure-ad-connect-to-cloud-sync',
      },
      { text: ', "Stop the scheduler" (Set-ADSyncScheduler -SyncCycleEnabled $false)' },
    ]);
    expect(citations('(seeds 000, 002)').map((r) => r.text)).toEqual(['(', DOCUMENTS.connectToCloudSync.title, ' and ', DOCUMENTS.quickstart.title, ')']);
    expect(withoutSeedNumbers('the pending-export review of how-to-connect-sync-staging-server.md')).toBe(
      'the pending-export review of “Microsoft Entra Connect: Staging server and disaster recovery”',
    );
    expect(citations('no reference here')).toEqual([{ text: 'no reference here' }]);
    expect(citations('seed 999 and unknown.md')).toEqual([{ text: 'seed 999 and unknown.md' }]);
  });

  it('maps every seed to a document with an https link, and leaves no step of any runbook citing a seed number', () => {
    for (const id of ['000', '001', '002', '003', '004']) expect(DOCUMENTS[SEED_DOCUMENTS[id]].url, id).toMatch(/^https:\/\//);
    for (const rb of Object.values(RUNBOOKS))
      for (const s of [...rb.steps, ...(rb.rollbackSteps ?? [])])
        for (const text of [s.source, s.warning ?? '', s.purpose]) {
          expect(withoutSeedNumbers(text), `${rb.kind}/${s.key}`).not.toMatch(/\bseeds? \d{3}/);
          expect(withoutSeedNumbers(text), `${rb.kind}/${s.key}`).not.toMatch(/\.md\b/);
        }
  });
});
