export {
  RunnerHub,
  RunnerError,
  UNKNOWN_AFTER_MS,
  DOWN_AFTER_MS,
  type EnqueueInput,
  type JobState,
  type RunnerHealth,
  type RunnerHubOptions,
  type RunnerInfo,
  type RunnerJob,
} from './hub.js';
