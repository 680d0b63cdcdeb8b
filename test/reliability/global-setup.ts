import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR, RESULTS_FILE, readResults } from './support.js';

/** Clears the results file before the run; prints the summary table after it (and writes summary.json). */
export default function setup(): () => void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  rmSync(RESULTS_FILE, { force: true });
  const started = Date.now();
  return () => {
    const rows = readResults();
    const sum = (k: string) => rows.reduce((n, r) => n + ((r.counts as any)?.[k] ?? 0), 0);
    const totals = {
      badInputs: sum('badInputs'),
      lostApprovals: sum('lostApprovals'),
      doubleMutations: sum('doubleMutations'),
      duplicateAlerts: sum('duplicateAlerts'),
      duplicateTransitions: sum('duplicateTransitions'),
      fiveHundreds: sum('fiveHundreds'),
    };
    const failed = rows.filter((r) => r.outcome === 'FAILED').length;
    const lines = table(
      ['Area', 'Check', 'Figure', 'Outcome'],
      [
        ...rows.map((r) => [r.area, r.check, r.figure, r.outcome]),
        [
          'Lost',
          'approvals lost / mutations run twice / alerts duplicated / transitions twice',
          `${totals.lostApprovals} / ${totals.doubleMutations} / ${totals.duplicateAlerts} / ${totals.duplicateTransitions}`,
          totals.lostApprovals + totals.doubleMutations + totals.duplicateAlerts + totals.duplicateTransitions === 0 ? 'lost = 0' : 'FAILED',
        ],
        ['Bad input', 'inputs tried in total', String(totals.badInputs), totals.badInputs >= 10_000 ? 'ok' : 'under 10,000'],
      ],
    );
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const text = [`\nReliability summary (${rows.length} checks, ${failed} failed, ${minutes} min)`, ...lines].join('\n');
    console.log(text);
    writeFileSync(path.join(RESULTS_DIR, 'summary.json'), JSON.stringify({ rows, totals, minutes: Number(minutes) }, null, 2));
    writeFileSync(path.join(RESULTS_DIR, 'summary.txt'), `${text}\n`);
  };
}

function table(head: string[], rows: string[][]): string[] {
  const clip = (s: string) => (s.length > 90 ? `${s.slice(0, 89)}…` : s);
  const all = [head, ...rows.map((r) => r.map((c) => clip(String(c))))];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(all[0]), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...all.slice(1).map(line)];
}
