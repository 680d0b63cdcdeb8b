import type { ActionName, ExecutorKind } from '../../actions/index.js';

export interface ActionContext {
  signal?: AbortSignal;
  /** One line of the transcript the step card shows (what was done, in plain words). */
  note(line: string): void;
}

/** Carries out allowlisted actions. Parameters arrive already validated against the catalog. */
export interface Executor {
  readonly kind: ExecutorKind;
  run(action: ActionName, params: any, ctx: ActionContext): Promise<unknown>;
  close?(): Promise<void>;
}
