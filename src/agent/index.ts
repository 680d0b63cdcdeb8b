/**
 * The on-premises runner agent: the executors, and the client loop. The actions' allowlist it carries out is the
 * contract in src/actions (import it from there); the sandbox's TypeScript executor lives with the sandbox
 * (src/sandbox/onprem/executor.ts).
 */
export { startAgent, checkServerUrl, AgentAuthError, AGENT_VERSION, type AgentHandle, type AgentOptions } from './client.js';
export { runAction, refusalReason, type ActionOutcome } from './run-action.js';
export type { Executor, ActionContext } from './executors/types.js';
export { LdapExecutor, FILTERS, guidFromBytes, type LdapSettings } from './executors/ldap.js';
export { PowerShellExecutor, SCRIPTS_DIR, stdinPayload, type PowerShellInvocation } from './executors/powershell.js';
export {
  noFlowRuleId,
  legacyNoFlowRuleId,
  groupWritebackRuleId,
  planNoFlowRules,
  planGroupWritebackRules,
  uuidV5,
  type PlannedRule,
} from './executors/rules.js';
