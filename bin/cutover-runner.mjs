#!/usr/bin/env node
// The runner agent's entry point: registers tsx so the TypeScript sources run as shipped, then starts the CLI.
// `--executor sandbox` (a simulated contoso.com, for trying actions out) is the sandbox's own entry point, the same CLI
// with the sandbox executor plugged in; with any other executor only the agent is loaded, never the simulator.
import { register } from 'tsx/esm/api';

register();
const argv = process.argv.slice(2);
const sandbox = argv.some((a, i) => a === '--executor=sandbox' || (a === '--executor' && argv[i + 1] === 'sandbox'));
const { main } = await import(sandbox ? '../src/sandbox/runner-cli.ts' : '../src/agent/cli.ts');
process.exitCode = await main(argv);
