import { ActionError, getAction, parseParams, parseResult, type ActionErrorCode } from '../actions/index.js';
import type { Executor } from './executors/types.js';

export type ActionOutcome =
  { ok: true; result: unknown; transcript: string } | { ok: false; error: { code: ActionErrorCode | string; message: string }; transcript: string };

/** Why this executor will not run the action, or null when it will. */
export function refusalReason(executor: Executor, action: string): string | null {
  let def;
  try {
    def = getAction(action);
  } catch (err) {
    return (err as Error).message;
  }
  if (!def.executors.includes(executor.kind))
    return (
      `the ${executor.kind} executor does not carry out ${action}; it runs on: ${def.executors.join(', ')}` +
      (executor.kind === 'ldap' ? ' (ADSync cmdlets need the Connect server, so use the powershell executor there)' : '')
    );
  return null;
}

/**
 * The one path from a job to an executor: allowlist and executor check, parameter validation, the run, result
 * validation. Never throws; every failure comes back as a structured error with the transcript so far.
 */
export async function runAction(executor: Executor, action: string, params: unknown, opts: { signal?: AbortSignal } = {}): Promise<ActionOutcome> {
  const lines: string[] = [];
  const note = (line: string) => lines.push(`${new Date().toISOString()} ${line}`);
  const transcript = () => lines.join('\n');
  try {
    const refusal = refusalReason(executor, action);
    if (refusal) throw new ActionError(getActionSafe(action) ? 'unsupported' : 'unknown-action', refusal);
    const valid = parseParams(action, params);
    note(`${action} on ${executor.kind} executor`);
    const raw = await executor.run(action as any, valid, { signal: opts.signal, note });
    const result = parseResult(action, raw);
    note(`${action} finished`);
    return { ok: true, result, transcript: transcript() };
  } catch (err) {
    const code = err instanceof ActionError ? err.code : 'failed';
    const message = err instanceof Error ? err.message : String(err);
    note(`${action} failed: ${code}: ${message}`);
    return { ok: false, error: { code, message }, transcript: transcript() };
  }
}

function getActionSafe(action: string): boolean {
  try {
    getAction(action);
    return true;
  } catch {
    return false;
  }
}
