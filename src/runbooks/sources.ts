/**
 * The documents the runbooks come from, by the names a person finds them under: each seed text (../shared/seeds/)
 * is a revision of a published page, and a card cites the page's title with a link, never "seed 000/001".
 * Runbook definitions keep their compact references (`source: 'seed 000/001, "Stop the scheduler"'`); citations()
 * turns any text holding such references (or a page's file name, e.g. how-to-connect-sync-staging-server.md) into
 * runs of text and links.
 */

export interface SourceDocument {
  title: string;
  url: string;
  /** Who publishes it (every document is Microsoft Learn's except the quickstart seed 002 was taken from). */
  publisher: string;
}

const LEARN = 'https://learn.microsoft.com/entra/identity/hybrid';

export const DOCUMENTS = {
  /** Seeds 000 (the 2023 revision) and 001 (the current steps table and its IMPORTANT note). */
  connectToCloudSync: {
    title: 'Migrate Microsoft Entra Connect to Microsoft Entra Cloud Sync',
    url: `${LEARN}/cloud-sync/migrate-azure-ad-connect-to-cloud-sync`,
    publisher: 'Microsoft Learn',
  },
  /**
   * Seed 002: a quickstart published outside Microsoft Learn (a community guide to Entra Cloud Sync); cited under its
   * own title and address, never presented as Microsoft's.
   */
  quickstart: {
    title: 'Migration from Connect Sync (Entra Cloud Sync quickstart)',
    url: 'https://learn-etelej-com.pages.dev/entra-cloud-sync/quickstart/migration-from-connect',
    publisher: 'learn-etelej-com.pages.dev (community guide)',
  },
  /** The tutorial seed 001 points to for creating the no-flow rules. */
  pilotTutorial: {
    title: 'Tutorial: Migrate to Microsoft Entra Cloud Sync for a synced Active Directory forest',
    url: `${LEARN}/cloud-sync/tutorial-pilot-aadc-aadccp`,
    publisher: 'Microsoft Learn',
  },
  /** Seed 003. */
  dirsyncUpgrade: {
    title: 'Microsoft Entra Connect: Upgrade from DirSync',
    url: `${LEARN}/connect/how-to-dirsync-upgrade-get-started`,
    publisher: 'Microsoft Learn',
  },
  /** Seed 004 (its 2023 revision; the current revision of the same page corrects where the rules go). */
  groupWriteback: {
    title: 'Migrate Microsoft Entra Connect Sync group writeback V2 to Microsoft Entra Cloud Sync',
    url: `${LEARN}/cloud-sync/migrate-group-writeback`,
    publisher: 'Microsoft Learn',
  },
  stagingServer: {
    title: 'Microsoft Entra Connect: Staging server and disaster recovery',
    url: `${LEARN}/connect/how-to-connect-sync-staging-server`,
    publisher: 'Microsoft Learn',
  },
  connectPrerequisites: {
    title: 'Prerequisites for Microsoft Entra Connect',
    url: `${LEARN}/connect/how-to-connect-install-prerequisites`,
    publisher: 'Microsoft Learn',
  },
  cloudSyncTroubleshooting: { title: 'Cloud sync troubleshooting', url: `${LEARN}/cloud-sync/how-to-troubleshoot`, publisher: 'Microsoft Learn' },
} satisfies Record<string, SourceDocument>;

export type DocumentKey = keyof typeof DOCUMENTS;

/** Seed number → the document it is a revision of. */
export const SEED_DOCUMENTS: Record<string, DocumentKey> = {
  '000': 'connectToCloudSync',
  '001': 'connectToCloudSync',
  '002': 'quickstart',
  '003': 'dirsyncUpgrade',
  '004': 'groupWriteback',
};

/** A page's file name (as Microsoft's own links and the definitions name it) → the document. */
const FILE_DOCUMENTS: Record<string, DocumentKey> = {
  'migrate-azure-ad-connect-to-cloud-sync.md': 'connectToCloudSync',
  'tutorial-pilot-aadc-aadccp.md': 'pilotTutorial',
  'how-to-dirsync-upgrade-get-started.md': 'dirsyncUpgrade',
  'migrate-group-writeback.md': 'groupWriteback',
  'how-to-connect-sync-staging-server.md': 'stagingServer',
  'how-to-connect-install-prerequisites.md': 'connectPrerequisites',
  'how-to-troubleshoot.md': 'cloudSyncTroubleshooting',
};

/** A piece of cited text: plain, or a document's title linking to it. */
export interface CitedRun {
  text: string;
  url?: string;
}

// "seed 000/001", "seeds 000, 002", "seed 004", or a page's file name ("how-to-connect-sync-staging-server.md").
const REFERENCE = /\bseeds? (\d{3}(?:(?:\/|, | and )\d{3})*)|\b([a-z0-9-]+\.md)\b/gi;

/** The documents a reference names, in order, without repeats. */
function documentsOf(match: RegExpExecArray): DocumentKey[] {
  if (match[1])
    return [
      ...new Set(
        match[1]
          .split(/\/|, | and /)
          .map((n) => SEED_DOCUMENTS[n])
          .filter((k): k is DocumentKey => !!k),
      ),
    ];
  const file = FILE_DOCUMENTS[match[2]];
  return file ? [file] : [];
}

/**
 * Text with its seed numbers and page file names replaced by the documents' titles, as runs: the titles carry their
 * links. Text without a reference is one plain run; a reference to an unknown seed or file stays as written.
 */
export function citations(text: string): CitedRun[] {
  const runs: CitedRun[] = [];
  let last = 0;
  const push = (t: string) => {
    if (!t) return;
    const prev = runs.at(-1);
    if (prev && !prev.url) prev.text += t;
    else runs.push({ text: t });
  };
  for (const m of text.matchAll(REFERENCE)) {
    const docs = documentsOf(m as RegExpExecArray);
    if (!docs.length) continue;
    push(text.slice(last, m.index));
    docs.forEach((k, i) => {
      if (i) push(' and ');
      runs.push({ text: DOCUMENTS[k].title, url: DOCUMENTS[k].url });
    });
    last = m.index! + m[0].length;
  }
  push(text.slice(last));
  return runs;
}

/** The same text without links: titles in quotation marks (for places that take plain text only). */
export function withoutSeedNumbers(text: string): string {
  return citations(text)
    .map((r) => (r.url ? `“${r.text}”` : r.text))
    .join('');
}

/** Every document a text cites (for a "Sources" list). */
export function citedDocuments(text: string): SourceDocument[] {
  const seen = new Set<string>();
  return citations(text)
    .filter((r) => r.url && !seen.has(r.url) && seen.add(r.url))
    .map((r) => Object.values(DOCUMENTS).find((d) => d.url === r.url)!);
}
