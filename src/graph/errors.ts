/**
 * Graph failures as one typed error. `code` and `message` are Graph's own (error.code / error.message),
 * verbatim, because cards show them to admins who will search for them in Microsoft's docs.
 */
export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly clientRequestId: string;
  readonly method: string;
  readonly path: string;
  /** Seconds the service asked us to wait (429/503), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    requestId?: string;
    clientRequestId: string;
    method: string;
    path: string;
    retryAfterSeconds?: number;
  }) {
    super(init.message);
    this.name = 'GraphError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.clientRequestId = init.clientRequestId;
    this.method = init.method;
    this.path = init.path;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** The fields a card or an audit row shows. */
  toJSON(): Record<string, unknown> {
    return {
      status: this.status,
      code: this.code,
      message: this.message,
      requestId: this.requestId,
      clientRequestId: this.clientRequestId,
      method: this.method,
      path: this.path,
    };
  }
}

export function isGraphError(e: unknown): e is GraphError {
  return e instanceof GraphError;
}

/**
 * Graph refused the call for lack of permission (403 Authorization_RequestDenied, "Insufficient privileges to complete
 * the operation."). With app-only credentials this is permanent for endpoints Graph documents as
 * "Application: Not supported" (the provisioning agents list, directory/onPremisesSynchronization).
 */
export function isAuthorizationDenied(e: unknown): e is GraphError {
  return e instanceof GraphError && e.status === 403;
}

/**
 * A request the module refuses to send because it would do damage Graph would not warn about
 * (e.g. a replace-all secrets PUT that would overwrite a masked password with "*").
 */
export class GraphPlanError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'GraphPlanError';
    this.code = code;
  }
}
