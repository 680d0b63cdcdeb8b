/**
 * The sandbox's PowerShell side: fake ADSync, ActiveDirectory and Windows-host modules (modules/) whose cmdlets are
 * carried out by the simulated Connect server and forest over HTTP (routes.ts → backend.ts), so that the runner's
 * real action scripts can run on pwsh against the sandbox.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SANDBOX_MODULES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'modules');

/**
 * The environment a script needs to reach the simulated server: the fake modules first on PSModulePath, the backend's
 * URL, and the folder that plays the Connect server's C:\ drive (%ProgramData% is under it).
 */
export function sandboxPowerShellEnv(opts: { onpremUrl: string; windowsRoot: string }): Record<string, string> {
  return {
    PSModulePath: [SANDBOX_MODULES_DIR, process.env.PSModulePath].filter(Boolean).join(path.delimiter),
    CUTOVER_SANDBOX_ONPREM_URL: opts.onpremUrl,
    CUTOVER_SANDBOX_WINDOWS_ROOT: opts.windowsRoot,
    ProgramData: path.join(opts.windowsRoot, 'ProgramData'),
  };
}

export { SandboxCmdletBackend } from './backend.js';
export { registerSandboxCmdletRoutes, cmdletBasePath } from './routes.js';
