/**
 * npm run test:powershell — the Pester tests in test/powershell/*.Tests.ps1, run by pwsh: every action script in
 * src/agent/scripts/ and infra/runner/install.ps1, the fake ADSync / ActiveDirectory modules' signatures, and the
 * scripts' Windows PowerShell 5.1 syntax. The scripts run as the agent runs them (a pwsh process each, parameters on
 * stdin) against the sandbox's simulated Connect server and forest, which this starts on a loopback port.
 *
 * Without pwsh or Pester (scripts/install-engines.sh installs both) it says why and exits 0, or 1 when CI=true.
 * A failing Pester test fails the run (exit 1). Results: test-results/pester.xml (NUnit).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, missing, pesterModulePath, pwsh } from './engines.js';
import { SANDBOX_MODULES_DIR } from '../src/sandbox/powershell/index.js';
import { startSandboxServer } from '../test/powershell/sandbox-server.js';

async function main(): Promise<number> {
  const exe = pwsh();
  const pester = pesterModulePath();
  if (!exe || !pester) {
    process.stderr.write(`test:powershell: skipped: ${missing(exe ? 'Pester' : 'PowerShell 7 (pwsh)')}\n`);
    return process.env.CI === 'true' ? 1 : 0;
  }
  const server = await startSandboxServer();
  const windowsRoot = mkdtempSync(path.join(tmpdir(), 'cutover-pester-windows-'));
  const results = path.join(ROOT, 'test-results');
  mkdirSync(results, { recursive: true });
  const files = process.argv.slice(2).map((f) => path.resolve(f));
  const command = [
    '$ErrorActionPreference = "Stop"',
    `Import-Module Pester -RequiredVersion 6.2.0`,
    '$c = New-PesterConfiguration',
    `$c.Run.Path = @(${(files.length ? files : [path.join(ROOT, 'test', 'powershell')]).map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')})`,
    '$c.Run.PassThru = $true',
    '$c.Output.Verbosity = "Detailed"',
    '$c.TestResult.Enabled = $true',
    '$c.TestResult.OutputFormat = "NUnitXml"',
    `$c.TestResult.OutputPath = '${path.join(results, 'pester.xml')}'`,
    '$r = Invoke-Pester -Configuration $c',
    "Write-Host ('Pester: ' + $r.PassedCount + ' passed, ' + $r.FailedCount + ' failed, ' + $r.SkippedCount + ' skipped, ' + $r.NotRunCount + ' not run (' + [int]$r.Duration.TotalSeconds + ' s)')",
    'if ($r.Result -ne "Passed") { exit 1 } else { exit 0 }',
  ].join('\n');
  const env = {
    ...process.env,
    // The fake modules first, then Pester: what a Connect server's ADSync / ActiveDirectory are in these tests.
    PSModulePath: [SANDBOX_MODULES_DIR, pester].join(path.delimiter),
    CUTOVER_TEST_SANDBOX_URL: server.url,
    CUTOVER_SANDBOX_ONPREM_URL: `${server.url}/onprem`,
    CUTOVER_SANDBOX_WINDOWS_ROOT: windowsRoot,
    ProgramData: path.join(windowsRoot, 'ProgramData'),
    CUTOVER_PWSH: exe,
    CUTOVER_REPO: ROOT,
  };
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(exe, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '-'], { env, stdio: ['pipe', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
      child.stdin.end(command);
    });
  } finally {
    await server.close();
    rmSync(windowsRoot, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`test:powershell: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
