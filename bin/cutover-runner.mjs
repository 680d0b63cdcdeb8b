#!/usr/bin/env node
// The runner agent's entry point: registers tsx so the TypeScript sources run as shipped, then starts the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/agent/cli.ts');
