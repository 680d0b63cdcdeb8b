/**
 * Where the engines installed by scripts/install-engines.sh live (.engines/, git-ignored), for the npm scripts and
 * the tests: pwsh (the .NET global tool), Pester and the Bicep compiler (NuGet packages), Node.js 22 (npm's "node").
 * Each lookup answers null when the engine is missing, so callers can say so and skip rather than fail obscurely.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPowerShell } from '../src/agent/executors/powershell.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ENGINES_DIR = process.env.CUTOVER_ENGINES_DIR ?? path.join(ROOT, '.engines');
export const PESTER_VERSION = '6.2.0';
export const INSTALL_HINT = 'bash scripts/install-engines.sh';

/** pwsh: SANDBOX_POWERSHELL when set, else pwsh on PATH, else ~/.dotnet/tools/pwsh (`dotnet tool install --global`). */
export function pwsh(): string | null {
  return findPowerShell(process.env.SANDBOX_POWERSHELL || undefined, { core: true });
}

/** The folder to put on PSModulePath for `Import-Module Pester` (it holds Pester/<version>/Pester.psd1). */
export function pesterModulePath(): string | null {
  const dir = path.join(ENGINES_DIR, 'modules');
  return existsSync(path.join(dir, 'Pester', PESTER_VERSION, 'Pester.psd1')) ? dir : null;
}

export function bicep(): string | null {
  const p = path.join(ENGINES_DIR, 'bin', 'bicep');
  return existsSync(p) ? p : null;
}

export function node22(): string | null {
  const p = path.join(ENGINES_DIR, 'node22', 'bin', 'node');
  return existsSync(p) ? p : null;
}

/** Why an engine is missing, in one line a person can act on. */
export function missing(what: string): string {
  return `${what} is not installed on this machine: run \`${INSTALL_HINT}\` (it installs pwsh, Pester, Bicep and Node 22 from the npm and NuGet registries)`;
}
