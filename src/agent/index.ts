/** The on-premises runner agent: the action allowlist, the executors, and the client loop. */
export {
  catalog,
  actionNames,
  getAction,
  isActionName,
  parseParams,
  parseResult,
  describeParams,
  ActionError,
  noFlowRuleId,
  groupWritebackRuleId,
  planNoFlowRules,
  planGroupWritebackRules,
  uuidV5,
  type ActionDefinition,
  type ActionErrorCode,
  type ActionName,
  type ActionParams,
  type ActionResult,
  type ExecutorKind,
  type IdentityRecord,
} from './actions.js';
export { startAgent, checkServerUrl, AgentAuthError, AGENT_VERSION, type AgentHandle, type AgentOptions } from './client.js';
export { runAction, refusalReason, type ActionOutcome } from './run-action.js';
export type { Executor, ActionContext } from './executors/types.js';
export { SandboxExecutor } from './executors/sandbox.js';
export { LdapExecutor, FILTERS, guidFromBytes, type LdapSettings } from './executors/ldap.js';
export { PowerShellExecutor, SCRIPTS_DIR, stdinPayload, type PowerShellInvocation } from './executors/powershell.js';
