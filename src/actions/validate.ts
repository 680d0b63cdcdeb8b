import { z } from 'zod';
import { getAction, catalog, type ActionName, type ActionParams } from './catalog.js';
import { ActionError } from './errors.js';

function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
}

/** Validates parameters against the allowlist; throws ActionError('invalid-params') with every reason. */
export function parseParams<A extends ActionName>(name: A, params: unknown): ActionParams<A>;
export function parseParams(name: string, params: unknown): unknown;
export function parseParams(name: string, params: unknown): unknown {
  const def = getAction(name);
  const r = def.params.safeParse(params ?? {});
  if (!r.success) throw new ActionError('invalid-params', `${name}: ${describeIssues(r.error)}`);
  return r.data;
}

export function parseResult(name: string, result: unknown): unknown {
  const def = getAction(name);
  const r = def.result.safeParse(result);
  if (!r.success) throw new ActionError('invalid-result', `${name} result: ${describeIssues(r.error)}`);
  return r.data;
}

/** Human-readable parameter list for `cutover-runner actions`. */
export function describeParams(name: ActionName): Record<string, unknown> {
  const schema = z.toJSONSchema(catalog[name].params, { io: 'input', unrepresentable: 'any' }) as any;
  return schema.properties ?? {};
}
