import type { MonitorCheck } from './check.js';
import { jobHealth } from './job-health.js';
import { ouCount } from './ou-count.js';
import { coexistence } from './coexistence.js';
import { agents } from './agents.js';
import { runner } from './runner.js';
import { scheduler } from './scheduler.js';

export type { CheckContext, MonitorCheck } from './check.js';

/**
 * Every check the monitor runs, in the order the cycle report lists their findings. Adding a check: one file
 * under checks/ implementing MonitorCheck, one line here.
 */
export const MONITOR_CHECKS: readonly MonitorCheck[] = [jobHealth, ouCount, coexistence, agents, runner, scheduler];
