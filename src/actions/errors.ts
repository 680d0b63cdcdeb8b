/** How an action fails, as the agent reports it and the control plane reads it back. */
export type ActionErrorCode = 'unknown-action' | 'invalid-params' | 'invalid-result' | 'unsupported' | 'refused' | 'conflict' | 'not-found' | 'failed';

export class ActionError extends Error {
  constructor(
    readonly code: ActionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}
