/**
 * The runner actions' contract: the catalog (names, parameter and result schemas, which executors carry each out),
 * their validation and their errors. The agent (src/agent), the runner control plane (src/runner) and the runbooks
 * (src/runbooks) import it from here; none imports another room for it. It imports no other room (only zod and the
 * shared DN parser), executes nothing and does no I/O.
 */
export {
  catalog,
  actionNames,
  isActionName,
  getAction,
  type ActionDefinition,
  type ActionName,
  type ActionParams,
  type ActionResult,
  type ExecutorKind,
} from './catalog.js';
export { ActionError, type ActionErrorCode } from './errors.js';
export { parseParams, parseResult, describeParams } from './validate.js';
export {
  safeText,
  identifier,
  distinguishedName,
  ouDn,
  objectClassSchema,
  NOFLOW_OBJECT_TYPES,
  noFlowObjectTypeSchema,
  schedulerSchema,
  runProfileResultSchema,
  syncRuleSchema,
  pendingExportsSchema,
  type NoFlowObjectType,
  type IdentityRecord,
  type PendingExports,
} from './schemas.js';
