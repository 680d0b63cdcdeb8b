import type { EffectFacts, GoLiveFigures, MigrationContext, PlannedStep, RunnerSequence, StepDefinition } from './types.js';
import { effectFacts } from './effects.js';
import type { Migration, StepPlan } from './engine-types.js';
import type { EngineContext } from './engine-context.js';

/** The runner actions of a sequence as they will run in this context. */
function resolve(sequence: RunnerSequence, ctx: MigrationContext): { action: string; params: Record<string, unknown> }[] {
  return sequence.map((a) => ({ action: typeof a.action === 'function' ? a.action(ctx) : a.action, params: a.params(ctx) }));
}

/** What a step will do, exactly as it will be run: approvers approve this (by hash). */
export async function planFor(cx: EngineContext, m: Migration, step: PlannedStep): Promise<StepPlan> {
  const ctx = cx.stepContext(m, step);
  const def = step.def;
  const facts = await effectFactsOf(cx, m, step);
  const effect = def.effect?.(ctx, facts);
  const describe = (seq: RunnerSequence) => resolve(seq, ctx).map((a) => cx.ports.runner.describe(a.action, a.params));
  const preview = def.preview ? await previewOf(cx, m, ctx, def.preview) : undefined;
  const extra = { effect, ...(preview ? { preview } : {}) };
  switch (def.action.kind) {
    case 'manual': {
      const verify = def.action.verify;
      if (!verify) return { manual: def.action.checklist, ...extra };
      return verify.kind === 'runner'
        ? { manual: def.action.checklist, runner: describe(verify.sequence), ...extra }
        : { manual: def.action.checklist, graph: await cx.ports.graph.describe(verify.operation, ctx, await cx.facts(m.id)), ...extra };
    }
    case 'runner':
      return { runner: describe(def.action.sequence), ...extra };
    case 'graph':
      return { graph: await cx.ports.graph.describe(def.action.operation, ctx, await cx.facts(m.id)), ...extra };
  }
}

/** The go-live figures, read now from the migration's runner (each read as the step's plan will show it). */
async function previewOf(cx: EngineContext, m: Migration, ctx: MigrationContext, preview: NonNullable<StepDefinition['preview']>): Promise<GoLiveFigures> {
  const results: any[] = [];
  for (const r of resolve(preview.reads, ctx)) results.push(await cx.read(m, r));
  return preview.figures(results, ctx);
}

/** Facts earlier steps established, used to state a step's effect (the domain's and the OU's counts, related steps). */
async function effectFactsOf(cx: EngineContext, m: Migration, step: PlannedStep): Promise<EffectFacts> {
  return effectFacts(await cx.store.steps(m.id), step.batch, (r) => cx.plannedStep(m, r).def.title);
}
