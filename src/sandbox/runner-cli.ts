/**
 * `cutover-runner … --executor sandbox`: the runner agent's CLI (src/agent/cli.ts, the same verbs and flags) with the
 * sandbox's TypeScript executor plugged in, acting on a self-contained simulated contoso.com (nothing leaves the
 * process). bin/cutover-runner.mjs routes here when the executor is sandbox, so the production agent never loads the
 * simulator. An entry point of the sandbox room: like the composition root, it wires the agent to the sandbox.
 *
 *   node bin/cutover-runner.mjs exec get-scheduler --executor sandbox
 *   node bin/cutover-runner.mjs --server http://127.0.0.1:3978 --token-file <file> --executor sandbox --allow-insecure-http
 *   npx tsx src/sandbox/runner-cli.ts exec get-scheduler --executor sandbox
 */
import { pathToFileURL } from 'node:url';
import { main as agentMain, type ExecutorPlugin } from '../agent/cli.js';
import { systemClock } from '../clock.js';
import { MemorySyncTarget, SandboxExecutor, seedContosoForest } from './onprem/index.js';

export const sandboxExecutorPlugin: ExecutorPlugin = {
  kind: 'sandbox',
  build() {
    let forest: ReturnType<typeof seedContosoForest> | undefined;
    const target = new MemorySyncTarget((dn) => forest?.ad.getByDn(dn)?.objectGUID);
    forest = seedContosoForest({ target });
    return new SandboxExecutor({ server: forest.server, clock: systemClock });
  },
  dryRunPlan: () => ({ note: 'the sandbox executor acts on a simulated contoso.com in this process only' }),
};

/** The agent's CLI with the sandbox executor: resolves to the exit code. */
export function main(argv: string[]): Promise<number> {
  return agentMain(argv, [sandboxExecutorPlugin]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
