/**
 * `npm run bench`: every benchmark in bench/ (one after another, each in its own process), their results in
 * bench/results/<name>.json, and one table: the machine, each figure, its baseline and the ratio to it.
 *
 *   npm run bench
 *   npm run bench -- --only invoke-latency,graph-ou-count
 *   npm run bench -- --skip ldap-count
 *   BENCH_TIMEOUT_MIN=30 (per benchmark)
 *
 * A benchmark writes bench/results/<name>.json itself, or prints its results as the last JSON line of its output
 * (then this script saves it there). Benchmarks that cannot run here say why (ldap-count without Samba or slapd) and
 * are listed as skipped.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine } from './machine.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const RESULTS = path.join(HERE, 'results');
/** Modules in bench/ that are not benchmarks themselves. */
const HELPERS = new Set(['run-all.ts', 'echo-bot.ts', 'machine.ts']);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MIN ?? 30) * 60_000;

interface Row {
  bench: string;
  figure: string;
  baseline: string;
  ratio: string;
  target: string;
  met: string;
}

const { values } = parseArgs({ options: { only: { type: 'string' }, skip: { type: 'string' } } });
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim().replace(/\.ts$/, ''))) : null;
const skip = new Set(
  (values.skip ?? '')
    .split(',')
    .filter(Boolean)
    .map((s) => s.trim().replace(/\.ts$/, '')),
);

function run(file: string): Promise<{ code: number | null; output: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', file)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    const tee = (d: Buffer) => {
      output += d;
      for (const line of String(d).split('\n'))
        if (line.trim() && !/DeprecationWarning|trace-deprecation/.test(line)) process.stdout.write(`  [${file.replace(/\.ts$/, '')}] ${line}\n`);
    };
    child.stdout.on('data', tee);
    child.stderr.on('data', tee);
    const timer = setTimeout(() => {
      output += `\n(timed out after ${TIMEOUT_MS / 60_000} min)`;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - t0 });
    });
  });
}

function lastJson(output: string): any {
  const lines = output.split('\n').reverse();
  for (const l of lines) {
    const t = l.trim();
    if (!t.startsWith('{')) continue;
    try {
      return JSON.parse(t);
    } catch {
      /* not this one */
    }
  }
  return null;
}

const fmt = (n: unknown, unit = '') => (typeof n === 'number' ? `${n.toLocaleString('en')}${unit}` : String(n ?? '—'));

/** One or more table rows per benchmark, from its results file. */
function rowsOf(name: string, r: any): Row[] {
  if (name === 'invoke-latency' && r?.cutover) {
    return [
      {
        bench: name,
        figure: `p50 ${fmt(r.cutover.p50Ms)} ms, p99 ${fmt(r.cutover.p99Ms)} ms, ${fmt(r.cutover.cpuMsPerInvoke)} ms CPU/invoke (${r.settings.concurrentUsers} users)`,
        baseline: `bare botbuilder: p50 ${fmt(r.floor.p50Ms)} ms, p99 ${fmt(r.floor.p99Ms)} ms, ${fmt(r.floor.cpuMsPerInvoke)} ms CPU`,
        ratio: `p50 ${r.ratio.p50}×, p99 ${r.ratio.p99}×, CPU ${r.ratio.cpuPerInvoke}×`,
        target: `≤ ${r.target.ratio}×`,
        met: r.target.met ? 'yes' : 'no',
      },
    ];
  }
  if (name === 'click' && r?.approval) {
    const ratioTarget = r.target.cpuRatioToEcho?.target ?? 2.5;
    const cpu = (label: string, x: any) => ({
      bench: name,
      figure: `${label}: ${fmt(x.sqlStatements)} SQL statements, ${fmt(x.cpuMs)} ms CPU`,
      baseline: `bare botbuilder ${fmt(r.echo.cpuMsPerClick)} ms CPU`,
      ratio: `CPU ${x.cpuRatioToEcho}×`,
      target: `≤ ${ratioTarget}× CPU`,
      met: x.cpuRatioToEcho <= ratioTarget ? 'yes' : 'no',
    });
    const approval = cpu('approval click', r.approval);
    return [
      {
        ...approval,
        ...(r.echoWithUpdate
          ? {
              baseline: `${approval.baseline}; updating the card for everyone ${fmt(r.echoWithUpdate.cpuMsPerClick)} ms`,
              ratio: `CPU ${r.approval.cpuRatioToEcho}× (${r.approval.cpuRatioToEchoWithUpdate}× the bot updating the card)`,
            }
          : {}),
        target: `≤ ${r.target.sqlPerApproval.target} SQL, ≤ ${ratioTarget}× CPU`,
        met: r.target.sqlPerApproval.met && approval.met === 'yes' ? 'yes' : r.target.sqlPerApproval.met ? 'SQL yes, CPU no' : 'no',
      },
      cpu('refresh click', r.refresh),
      ...(r.staleApproval ? [cpu('stale approval click', r.staleApproval)] : []),
    ];
  }
  if (name === 'graph-ou-count' && r?.firstRead) {
    return [
      {
        bench: name,
        figure: `first read of ${fmt(r.users)} users: ${fmt(r.firstRead.requests)} requests, ${fmt(r.firstRead.wallMs)} ms`,
        baseline: `minimum ${fmt(r.firstRead.minimum)} requests`,
        ratio: `${(r.firstRead.requests / r.firstRead.minimum).toFixed(3)}×`,
        target: '≤ 1.02×',
        met: r.targets?.firstReadWithin2Pct ? 'yes' : 'no',
      },
      {
        bench: name,
        figure: `delta poll, ${fmt(r.deltaPoll.changesMade)} changes: ${fmt(r.deltaPoll.requests)} request(s), ${fmt(r.deltaPoll.wallMs)} ms`,
        baseline: '3 requests',
        ratio: `${(r.deltaPoll.requests / 3).toFixed(2)}×`,
        target: '≤ 3 requests',
        met: r.targets?.deltaPollAtMost3 ? 'yes' : 'no',
      },
      {
        bench: name,
        figure: `client RSS growth ${fmt(r.memory.growthMb)} MB`,
        baseline: '150 MB',
        ratio: `${(r.memory.growthMb / 150).toFixed(2)}×`,
        target: '≤ 150 MB',
        met: r.targets?.rssGrowthAtMost150Mb ? 'yes' : 'no',
      },
    ];
  }
  if (name === 'ldap-count' && r?.results) {
    const rows: Row[] = r.results.flatMap((t: any) =>
      (t.rows ?? []).map((x: any) => ({
        bench: name,
        figure: `${x.target} ${x.op}: ${fmt(x.users)} users in ${fmt(x.nodeMs)} ms`,
        baseline: `ldapsearch ${fmt(x.ldapsearchMs)} ms`,
        ratio: `${x.ratio}×`,
        target: '≤ 1.2×',
        met: x.ratio <= 1.2 ? 'yes' : 'no',
      })),
    );
    if (rows.length) return rows;
  }
  if (r?.targets && typeof r.targets === 'object') {
    const rows = Object.entries(r.targets)
      .filter(([, v]: any) => v && typeof v === 'object' && 'measured' in v)
      .map(([k, v]: any) => ({
        bench: name,
        figure: `${k}: ${fmt(v.measured)}`,
        baseline: fmt(v.target),
        ratio: v.ratio !== undefined ? `${v.ratio}×` : '—',
        target: v.rule ?? '≤ 1×',
        met: v.ratio !== undefined ? (v.ratio <= 1 ? 'yes' : 'no') : '—',
      }));
    if (rows.length) return rows;
  }
  return [{ bench: name, figure: `see bench/results/${name}.json`, baseline: '—', ratio: '—', target: '—', met: '—' }];
}

function table(rows: Row[]): string {
  const head: (keyof Row)[] = ['bench', 'figure', 'baseline', 'ratio', 'target', 'met'];
  const w = head.map((h) => Math.max(h.length, ...rows.map((r) => r[h].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map((r) => line(head.map((h) => r[h])))].join('\n');
}

async function main(): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  const files = readdirSync(HERE)
    .filter((f) => f.endsWith('.ts') && !HELPERS.has(f) && !f.startsWith('_'))
    .filter((f) => (!only || only.has(f.replace(/\.ts$/, ''))) && !skip.has(f.replace(/\.ts$/, '')))
    .sort();
  const before = { ...machine(), loadavg1m: +os.loadavg()[0].toFixed(2) };
  console.log(`benchmarks: ${files.map((f) => f.replace(/\.ts$/, '')).join(', ')}`);
  console.log(`machine: ${before.cpu}, ${before.cores} cores, ${before.memoryGb} GB, Node ${before.node}, load ${before.loadavg1m}\n`);
  const rows: Row[] = [];
  const runs: Record<string, { seconds: number; exit: number | null; status: string }> = {};
  for (const file of files) {
    const name = file.replace(/\.ts$/, '');
    const out = path.join(RESULTS, `${name}.json`);
    const started = Date.now();
    console.log(`== ${name}`);
    const { code, output, ms } = await run(file);
    let result: any;
    if (existsSync(out) && statSync(out).mtimeMs >= started) result = JSON.parse(readFileSync(out, 'utf8'));
    else {
      result = lastJson(output);
      if (result) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    }
    const skipped = [...output.matchAll(/^(?:\s*\[[^\]]+\]\s*)?(\w+): skipped \((.+)\)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
    let status = code === 0 ? 'ok' : `failed (exit ${code})`;
    if (code === 0 && result) rows.push(...rowsOf(name, result));
    if (skipped.length) {
      const ran = code === 0 && result && rowsOf(name, result).some((r) => r.baseline !== '—');
      if (!ran) status = 'skipped';
      rows.push({ bench: name, figure: `skipped: ${skipped.join('; ')}`, baseline: '—', ratio: '—', target: '—', met: '—' });
    }
    if (code !== 0)
      rows.push({
        bench: name,
        figure: `FAILED (exit ${code}): ${output.trim().split('\n').slice(-1)[0]?.slice(0, 100) ?? ''}`,
        baseline: '—',
        ratio: '—',
        target: '—',
        met: 'no',
      });
    runs[name] = { seconds: Math.round(ms / 1000), exit: code, status };
  }
  const after = { ...machine(), loadavg1m: +os.loadavg()[0].toFixed(2) };
  const text = [
    `\nBenchmarks on ${before.cpu} (${before.cores} cores, ${before.memoryGb} GB), Node ${before.node}, ${before.platform}; load average ${before.loadavg1m} → ${after.loadavg1m}`,
    table(rows),
  ].join('\n');
  console.log(text);
  writeFileSync(
    path.join(RESULTS, 'summary.json'),
    `${JSON.stringify({ date: new Date().toISOString(), machine: before, loadavgAfter: after.loadavg1m, runs, rows }, null, 2)}\n`,
  );
  if (Object.values(runs).some((r) => r.status.startsWith('failed'))) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
