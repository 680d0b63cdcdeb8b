import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActionError, catalog, type ActionName } from '../../actions/index.js';
import { legacyNoFlowNameMarker, noFlowRuleIds, planGroupWritebackRules, planNoFlowRules } from './rules.js';
import type { ActionContext, Executor } from './types.js';

export const SCRIPTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'scripts');

/** Arguments for the interpreter: no profile, no prompts, the script by path (never -Command, never text). */
export const POWERSHELL_ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'];

/** The executor kills a script after this long; every script's own waits must end sooner (start-sync-cycle: 4.5 h). */
export const POWERSHELL_TIMEOUT_MS = 5 * 60 * 60_000;

/**
 * The PowerShell interpreter on this machine, or null: `explicit` when given (a setting or --powershell); on Windows
 * powershell.exe (Windows PowerShell 5.1, where the ADSync module lives) unless `core` (PowerShell 7 is wanted: the
 * sandbox's simulated modules); otherwise pwsh on PATH, then ~/.dotnet/tools/pwsh (the .NET global tool `PowerShell`,
 * as scripts/install-engines.sh installs it).
 */
export function findPowerShell(explicit?: string, opts: { core?: boolean; env?: NodeJS.ProcessEnv } = {}): string | null {
  if (explicit) return explicit;
  const env = opts.env ?? process.env;
  const win = process.platform === 'win32';
  if (win && !opts.core) return 'powershell.exe';
  const exe = win ? 'pwsh.exe' : 'pwsh';
  const candidates = [
    ...(env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((d) => path.join(d, exe)),
    path.join(homedir(), '.dotnet', 'tools', exe),
  ];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there, or not executable
    }
  }
  return null;
}

export interface PowerShellInvocation {
  executable: string;
  args: string[];
  scriptPath: string;
  /** The exact JSON document written to the script's stdin. */
  stdin: string;
}

/**
 * What goes to the script on stdin: the validated parameters with every optional key present (null when absent,
 * so the script never probes for missing properties) plus data the agent derives from them, such as the rule plan.
 */
export function stdinPayload(action: ActionName, params: any): Record<string, unknown> {
  const withNulls = { ...params };
  for (const key of Object.keys((catalog[action].params as any).shape ?? {})) if (withNulls[key] === undefined) withNulls[key] = null;
  const payload: Record<string, unknown> = { action, params: withNulls };
  if (action === 'create-noflow-rules') payload.plan = planNoFlowRules(params);
  if (action === 'create-group-writeback-noflow-rules') payload.plan = planGroupWritebackRules(params.migrationId);
  if (action === 'remove-noflow-rules') {
    payload.identifiers = noFlowRuleIds(params.migrationId);
    // Rules of the earlier per-batch scheme: name contains this marker followed by digits and ')'.
    payload.legacyNameMarker = legacyNoFlowNameMarker(params.migrationId);
  }
  return payload;
}

/**
 * Runs each action as its fixed script in src/agent/scripts/ with parameters as JSON on stdin and the result as
 * JSON on stdout. No user data is ever placed into script text or the command line.
 */
export class PowerShellExecutor implements Executor {
  readonly kind = 'powershell' as const;
  readonly executable: string;
  readonly #timeoutMs: number;
  readonly #env: Record<string, string> | undefined;

  /**
   * `executable`: the interpreter (default: powershell.exe on Windows, where the ADSync module lives; pwsh elsewhere).
   * `env`: variables added to the script's environment (the sandbox points PSModulePath at its simulated modules).
   */
  constructor(opts: { executable?: string; timeoutMs?: number; env?: Record<string, string> } = {}) {
    // ADSync is a Windows PowerShell module: on Windows use powershell.exe (5.1) unless told otherwise.
    this.executable = opts.executable ?? (process.platform === 'win32' ? 'powershell.exe' : 'pwsh');
    // An Initial cycle on a large forest can take hours; start-sync-cycle.ps1 gives up well before this (4.5 h in all).
    this.#timeoutMs = opts.timeoutMs ?? POWERSHELL_TIMEOUT_MS;
    this.#env = opts.env;
  }

  invocation(action: ActionName, params: unknown): PowerShellInvocation {
    const scriptPath = path.join(SCRIPTS_DIR, `${action}.ps1`);
    return { executable: this.executable, args: [...POWERSHELL_ARGS, scriptPath], scriptPath, stdin: JSON.stringify(stdinPayload(action, params)) };
  }

  /** What --dry-run prints: the interpreter, the script's full text and the exact stdin, without running anything. */
  dryRun(action: ActionName, params: unknown): PowerShellInvocation & { script: string } {
    const inv = this.invocation(action, params);
    return { ...inv, script: readFileSync(inv.scriptPath, 'utf8') };
  }

  async run(action: ActionName, params: unknown, ctx: ActionContext): Promise<unknown> {
    const inv = this.invocation(action, params);
    ctx.note(`${inv.executable} ${inv.args.join(' ')} (parameters on stdin)`);
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(inv.executable, inv.args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
        ...(this.#env ? { env: { ...process.env, ...this.#env } } : {}),
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill(), this.#timeoutMs);
      const onAbort = () => child.kill();
      ctx.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new ActionError('failed', `cannot start ${inv.executable}: ${err.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', onAbort);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(inv.stdin);
    });
    for (const line of stderr.split(/\r?\n/).filter(Boolean).slice(0, 200)) ctx.note(`stderr: ${line}`);
    let doc: any;
    try {
      doc = JSON.parse(stdout.trim().split(/\r?\n/).pop() ?? '');
    } catch {
      throw new ActionError('failed', `${action}.ps1 exited ${code} without a JSON result${stderr ? `: ${stderr.slice(0, 500)}` : ''}`);
    }
    if (doc?.ok === true) return doc.result;
    const e = doc?.error ?? {};
    const known = ['invalid-params', 'refused', 'conflict', 'not-found', 'failed'];
    throw new ActionError(known.includes(e.code) ? e.code : 'failed', String(e.message ?? `${action}.ps1 failed (exit ${code})`));
  }
}
