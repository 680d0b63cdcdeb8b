/**
 * The runner reads cutover makes outside a step's own sequence (the engine's guards, the monitor's checks), each named
 * by the question it answers. The runner's action names for them live here, in the runbooks room next to the step
 * definitions, so that neither the engine nor the monitor names an action.
 */
export interface RunnerRead {
  action: string;
  params: Record<string, unknown>;
}

export const runnerReads = {
  /** Get-ADSyncScheduler: whether sync cycles are enabled, staging mode, a cycle running now. */
  scheduler: (): RunnerRead => ({ action: 'get-scheduler', params: {} }),
  /** The AD connector's scope: selected partitions, included and excluded containers, group filtering. */
  connectorScope: (): RunnerRead => ({ action: 'get-connector-scope', params: {} }),
  /** Users, groups and contacts per container under `base`, leaving out `excludeContainers`. */
  countByOu: (base: string, excludeContainers: string[]): RunnerRead => ({ action: 'ad-count-by-ou', params: { base, excludeContainers } }),
  /** The users under an OU with their identities (what Entra ID should hold for them). */
  ouUsers: (ou: string): RunnerRead => ({ action: 'ad-export-identities', params: { ou, classes: ['user'] } }),
};
