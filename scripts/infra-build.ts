/**
 * npm run infra:build — compiles infra/main.bicep with the Bicep compiler (ARM JSON in infra/build/main.json) and runs
 * Bicep's linter on it and every module it uses. Any error or warning fails (exit 1): a warning kept on purpose is
 * suppressed in the .bicep file with `#disable-next-line <rule>` and the reason beside it.
 *
 * Without the compiler (.engines/bin/bicep, from scripts/install-engines.sh) it says so; that fails only in CI (CI=true).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, bicep, missing } from './engines.js';

interface SarifResult {
  ruleId?: string;
  level?: 'error' | 'warning' | 'note' | 'none';
  message?: { text?: string };
  locations?: Array<{ physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number; startColumn?: number } } }>;
}

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  level: string;
  rule: string;
  message: string;
}

/** Runs `bicep <verb> <file> --diagnostics-format sarif …` and returns its diagnostics (SARIF comes on stdout or stderr). */
export function runBicep(bin: string, args: string[]): { status: number | null; diagnostics: Diagnostic[]; raw: string } {
  const r = spawnSync(bin, [...args, '--diagnostics-format', 'sarif'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
  });
  const diagnostics: Diagnostic[] = [];
  for (const text of [r.stdout, r.stderr]) {
    const start = text.indexOf('{');
    if (start < 0) continue;
    let doc: { runs?: Array<{ results?: SarifResult[] }> };
    try {
      doc = JSON.parse(text.slice(start));
    } catch {
      continue;
    }
    for (const run of doc.runs ?? [])
      for (const x of run.results ?? []) {
        const loc = x.locations?.[0]?.physicalLocation;
        const uri = loc?.artifactLocation?.uri ?? '';
        diagnostics.push({
          file: uri.startsWith('file://') ? path.relative(ROOT, decodeURIComponent(new URL(uri).pathname)) : uri,
          line: loc?.region?.startLine ?? 0,
          column: loc?.region?.startColumn ?? 0,
          level: x.level ?? 'warning',
          rule: x.ruleId ?? '',
          message: x.message?.text ?? '',
        });
      }
  }
  return { status: r.status, diagnostics, raw: `${r.stdout}${r.stderr}` };
}

function main(): void {
  const bin = bicep();
  if (!bin) {
    process.stderr.write(`infra:build: ${missing('the Bicep compiler')}\n`);
    process.exit(process.env.CI === 'true' ? 1 : 0);
  }
  const outDir = path.join(ROOT, 'infra', 'build');
  mkdirSync(outDir, { recursive: true });
  const main = path.join('infra', 'main.bicep');
  const build = runBicep(bin, ['build', main, '--outfile', path.join(outDir, 'main.json')]);
  const lint = runBicep(bin, ['lint', main]);
  // build reports the linter's findings too: count each diagnostic once.
  const seen = new Set<string>();
  const all = [...build.diagnostics, ...lint.diagnostics].filter((d) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.rule}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  for (const d of all) process.stdout.write(`${d.file}(${d.line}${d.column ? `,${d.column}` : ''}) ${d.level} ${d.rule}: ${d.message}\n`);
  const errors = all.filter((d) => d.level === 'error').length;
  const warnings = all.filter((d) => d.level === 'warning').length;
  if (build.status !== 0 && errors === 0) process.stdout.write(build.raw);
  const ok = build.status === 0 && lint.status === 0 && errors === 0 && warnings === 0;
  process.stdout.write(
    `infra:build: ${main} → infra/build/main.json; ${errors} error(s), ${warnings} warning(s), ${all.length - errors - warnings} note(s)${ok ? '' : ' — failing'}\n`,
  );
  process.exit(ok ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(ROOT, 'scripts', 'infra-build.ts')) main();
