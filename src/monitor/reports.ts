import type { Clock } from '../clock.js';
import type { Sql } from '../store/db.js';
import { kvGet, kvSet } from '../store/kv.js';
import { csvDocument } from '../reports/csv.js';
import { LIST_KEYS, LIST_TITLES, type ListKey, type ReconcileResult } from './reconcile.js';

/**
 * The reconciliation behind an alert: what the card summarises (counts, the first 20 of each list) and the
 * full report (CSV) its link serves. Stored per alert in the kv table so the link works after a restart and
 * from any instance; the CSV is generated from the stored lists on request.
 */

export const CARD_LINES_PER_LIST = 20;
const MAX_LINE = 160;
/** Teams refuses messages over ~28 KB: the lists (text plus ~100 bytes of JSON per line) get at most this much. */
const CARD_LIST_BUDGET = 22_000;

export interface StoredReport {
  v: 1;
  alertId: string;
  migrationId: string;
  migrationName: string | null;
  ou: string;
  generatedAt: string;
  result: ReconcileResult;
}

const clip = (s: string) => (s.length > MAX_LINE ? `${s.slice(0, MAX_LINE - 1)}…` : s);
const q = (s: string | null | undefined) => (s ? `"${s}"` : '(empty)');

/** One line per finding, as the card shows it. */
export function findingLines(r: ReconcileResult, list: ListKey): string[] {
  switch (list) {
    case 'missingInEntra':
      return r.missingInEntra.map((f) => `${f.onPrem.dn} · ${f.onPrem.userPrincipalName ?? '(no UPN)'} · anchor ${f.onPrem.anchor ?? '(none)'}`);
    case 'notOnPrem':
      return r.notOnPrem.map((f) => `${f.entra.dn ?? '(no DN)'} · ${f.entra.userPrincipalName ?? '(no UPN)'} · Entra id ${f.entra.id}`);
    case 'duplicates':
      return r.duplicates.map(
        (f) => `${f.attribute} ${f.value}: ${f.holders.map((h) => `${h.side === 'on-prem' ? 'AD' : 'Entra'} ${h.dn ?? h.id}`).join(' | ')}`,
      );
    case 'drift':
      return r.drift.map(
        (f) =>
          `${f.onPrem.dn}: ${f.attribute} ${q(f.onPremValue)} → Entra ${q(f.entraValue)}${f.attribute === 'proxyAddresses' || f.attribute === 'userPrincipalName' ? ` (${f.detail})` : ''}`,
      );
    case 'immutableIdMismatch':
      return r.immutableIdMismatch.map(
        (f) => `${f.onPrem.dn}: expected ${f.expected ?? '(none)'}, Entra has ${f.actual ?? '(none)'} (matched by ${f.matchedBy})`,
      );
  }
}

/** The card's lists: every non-empty list with its total and its first 20 lines. */
export function cardSections(r: ReconcileResult): { title: string; total: number; lines: string[] }[] {
  const lists = LIST_KEYS.filter((k) => r[k].length > 0).map((k) => ({
    k,
    all: findingLines(r, k),
    shown: findingLines(r, k).slice(0, CARD_LINES_PER_LIST).map(clip),
  }));
  // Within Teams' card size: when long lines would overflow it, show fewer per list (the CSV has them all).
  // Each line costs its text plus the JSON of the element it is shown in (a RichTextBlock with a TextRun: about 200 bytes).
  const size = () => lists.reduce((n, l) => n + l.shown.reduce((m, x) => m + x.length + 200, 0), 0);
  while (size() > CARD_LIST_BUDGET) {
    const longest = lists.reduce((a, b) => (b.shown.length > a.shown.length ? b : a));
    if (longest.shown.length <= 3) break;
    longest.shown.pop();
  }
  return lists.map(({ k, all, shown }) => ({
    title: `${LIST_TITLES[k]}: ${all.length}${all.length > shown.length ? ` (first ${shown.length} shown)` : ''}`,
    total: all.length,
    lines: shown,
  }));
}

export function reportRowCount(r: ReconcileResult): number {
  return r.missingInEntra.length + r.notOnPrem.length + r.drift.length + r.immutableIdMismatch.length + r.duplicates.reduce((n, d) => n + d.holders.length, 0);
}

// ---------------------------------------------------------------- CSV

export const CSV_COLUMNS = [
  'list',
  'attribute',
  'value',
  'side',
  'onPremDn',
  'objectGUID',
  'sourceAnchor',
  'entraId',
  'entraDn',
  'entraImmutableId',
  'userPrincipalName',
  'mail',
  'displayName',
  'onPremValue',
  'entraValue',
  'detail',
] as const;
type Row = Partial<Record<(typeof CSV_COLUMNS)[number], string | null>>;

export { csvCell } from '../reports/csv.js';

export function reportRows(r: ReconcileResult): Row[] {
  const rows: Row[] = [];
  for (const f of r.missingInEntra)
    rows.push({
      list: 'missingInEntra',
      side: 'on-prem',
      onPremDn: f.onPrem.dn,
      objectGUID: f.onPrem.objectGUID,
      sourceAnchor: f.onPrem.anchor,
      userPrincipalName: f.onPrem.userPrincipalName,
      mail: f.onPrem.mail,
      displayName: f.onPrem.displayName,
      detail: 'No Entra user with this source anchor, objectGUID, DN or samAccountName',
    });
  for (const f of r.notOnPrem)
    rows.push({
      list: 'notOnPrem',
      side: 'entra',
      entraId: f.entra.id,
      entraDn: f.entra.dn,
      entraImmutableId: f.entra.immutableId,
      userPrincipalName: f.entra.userPrincipalName,
      mail: f.entra.mail,
      displayName: f.entra.displayName,
      detail: 'Entra places this synced user in the OU; no on-premises object in the OU matches it',
    });
  for (const f of r.duplicates)
    for (const h of f.holders)
      rows.push({
        list: 'duplicates',
        attribute: f.attribute,
        value: f.value,
        side: h.side,
        ...(h.side === 'on-prem' ? { onPremDn: h.dn, objectGUID: h.id } : { entraDn: h.dn, entraId: h.id }),
        detail: `${f.holders.length} objects hold this ${f.attribute}`,
      });
  for (const f of r.drift)
    rows.push({
      list: 'drift',
      attribute: f.attribute,
      side: 'both',
      onPremDn: f.onPrem.dn,
      objectGUID: f.onPrem.objectGUID,
      sourceAnchor: f.onPrem.anchor,
      entraId: f.entra.id,
      entraDn: f.entra.dn,
      entraImmutableId: f.entra.immutableId,
      userPrincipalName: f.onPrem.userPrincipalName,
      onPremValue: f.onPremValue,
      entraValue: f.entraValue,
      detail: f.detail,
    });
  for (const f of r.immutableIdMismatch)
    rows.push({
      list: 'immutableIdMismatch',
      attribute: 'onPremisesImmutableId',
      side: 'both',
      onPremDn: f.onPrem.dn,
      objectGUID: f.onPrem.objectGUID,
      sourceAnchor: f.expected,
      entraId: f.entra.id,
      entraDn: f.entra.dn,
      entraImmutableId: f.actual,
      userPrincipalName: f.onPrem.userPrincipalName,
      onPremValue: f.expected,
      entraValue: f.actual,
      detail: `matched by ${f.matchedBy}${f.actualGuid ? `; Entra's immutable id decodes to GUID ${f.actualGuid}` : ''}. ${f.detail}`,
    });
  return rows;
}

/** The full report as CSV (see csvDocument). */
export function toCsv(report: StoredReport): string {
  const head = [
    `# cutover reconciliation report`,
    `# migration ${report.migrationName ?? report.migrationId} · OU ${report.ou} · generated ${report.generatedAt} · alert ${report.alertId}`,
    `# counts ${Object.entries(report.result.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  ];
  return csvDocument(head, CSV_COLUMNS, reportRows(report.result));
}

// ---------------------------------------------------------------- storage

const reportKey = (alertId: string) => `monitor:report:${alertId}`;

export class ReportStore {
  /** What this process last wrote per alert: an unchanged report is not rewritten every cycle. */
  readonly #written = new Map<string, string>();

  constructor(
    private readonly db: Sql,
    private readonly clock: Clock,
  ) {}

  async save(report: StoredReport): Promise<void> {
    const { generatedAt: _, ...stable } = report;
    const fingerprint = JSON.stringify(stable);
    if (this.#written.get(report.alertId) === fingerprint) return;
    await kvSet(this.db, this.clock, reportKey(report.alertId), JSON.stringify(report));
    this.#written.set(report.alertId, fingerprint);
    if (this.#written.size > 10_000) this.#written.clear();
  }

  async load(alertId: string): Promise<StoredReport | null> {
    const raw = await kvGet(this.db, reportKey(alertId));
    if (!raw) return null;
    try {
      const r = JSON.parse(raw) as StoredReport;
      return r?.v === 1 ? r : null;
    } catch {
      return null;
    }
  }
}
