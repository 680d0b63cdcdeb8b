export {
  GraphSimulator,
  AD2AAD_TEMPLATE_ID,
  AD2AAD_RULE_ID,
  type FaultRule,
  type GraphSimulatorOptions,
  type SimulatedAgent,
  type SimulatorStats,
} from './simulator.js';
export { EntraDirectory, type EntraObject, type EntraKind } from './entraDirectory.js';
