/**
 * cutover-runner: the on-premises runner agent.
 *
 *   cutover-runner --server https://cutover.contoso.com --token-file C:\cutover\runner.token --executor powershell
 *   cutover-runner exec <action> --params '<json>' --executor ldap|powershell|sandbox [--dry-run]
 *   cutover-runner actions [--json]
 *
 * This is the production agent's CLI: it loads the PowerShell and LDAP executors and nothing of the sandbox. The
 * sandbox executor is plugged in by the sandbox's own entry point (src/sandbox/runner-cli.ts), which
 * bin/cutover-runner.mjs routes `--executor sandbox` to.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../log.js';
import { actionNames, catalog, describeParams, isActionName, parseParams, type ExecutorKind } from '../actions/index.js';
import { AGENT_VERSION, startAgent } from './client.js';
import { FILTERS, LdapExecutor } from './executors/ldap.js';
import { PowerShellExecutor } from './executors/powershell.js';
import type { Executor } from './executors/types.js';
import { refusalReason, runAction } from './run-action.js';

const OPTIONS = {
  server: { type: 'string' },
  'token-file': { type: 'string' },
  executor: { type: 'string' },
  params: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  'ldap-url': { type: 'string' },
  'bind-dn': { type: 'string' },
  'bind-password-file': { type: 'string' },
  'start-tls': { type: 'boolean' },
  'allow-plain-ldap': { type: 'boolean' },
  'tls-ca-file': { type: 'string' },
  'tls-insecure': { type: 'boolean' },
  'page-size': { type: 'string' },
  powershell: { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const USAGE = `cutover-runner ${AGENT_VERSION}

  cutover-runner --server <https url> --token-file <path> --executor powershell|ldap|sandbox
      Run the agent: long-poll the cutover service for jobs and carry them out.
  cutover-runner exec <action> --params '<json>' --executor ldap|powershell|sandbox [--dry-run]
      Run one action locally and print its JSON result (--dry-run: show what would run, run nothing).
  cutover-runner actions [--json]
      List the allowlisted actions with their parameters.

LDAP (flags or environment):
  --ldap-url ldaps://dc1.contoso.com      CUTOVER_LDAP_URL
  --bind-dn svc-cutover@contoso.com        CUTOVER_BIND_DN
  --bind-password-file <path>              CUTOVER_BIND_PASSWORD_FILE (or CUTOVER_BIND_PASSWORD)
  --start-tls  --allow-plain-ldap  --tls-ca-file <pem>  --tls-insecure  --page-size <1-1000>
PowerShell:
  --powershell <path to powershell.exe or pwsh>
Token: --token-file <path> or CUTOVER_RUNNER_TOKEN.
`;

/**
 * An executor a host plugs into this CLI (the sandbox's entry point plugs in `sandbox`): how to build it from the
 * command line, and what `exec --dry-run` shows for it.
 */
export interface ExecutorPlugin {
  kind: ExecutorKind;
  build(): Executor;
  dryRunPlan(action: string, params: unknown): unknown;
}

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function fail(message: string): never {
  process.stderr.write(`cutover-runner: ${message}\n`);
  process.exit(2);
}

function readSecret(file: string | undefined, envName: string, what: string): string {
  if (file) return readFileSync(file, 'utf8').trim();
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv.trim();
  return fail(`${what} is required (--${what === 'token' ? 'token-file' : 'bind-password-file'} or ${envName})`);
}

function buildExecutor(kind: string | undefined, v: Values, plugins: readonly ExecutorPlugin[]): Executor {
  switch (kind as ExecutorKind | undefined) {
    case 'powershell':
      return new PowerShellExecutor({ executable: v.powershell });
    case 'ldap': {
      const url = v['ldap-url'] ?? process.env.CUTOVER_LDAP_URL ?? fail('--ldap-url (or CUTOVER_LDAP_URL) is required for the ldap executor');
      const bindDn = v['bind-dn'] ?? process.env.CUTOVER_BIND_DN ?? fail('--bind-dn (or CUTOVER_BIND_DN) is required for the ldap executor');
      const bindPassword = readSecret(v['bind-password-file'] ?? process.env.CUTOVER_BIND_PASSWORD_FILE, 'CUTOVER_BIND_PASSWORD', 'bind password');
      const tls = { ...(v['tls-ca-file'] ? { ca: readFileSync(v['tls-ca-file']) } : {}), ...(v['tls-insecure'] ? { rejectUnauthorized: false } : {}) };
      try {
        return new LdapExecutor({
          url,
          bindDn,
          bindPassword,
          startTls: v['start-tls'],
          allowPlainLdap: v['allow-plain-ldap'],
          tls,
          pageSize: v['page-size'] ? Number(v['page-size']) : undefined,
        });
      } catch (err) {
        return fail((err as Error).message);
      }
    }
    default: {
      const plugin = plugins.find((p) => p.kind === kind);
      if (plugin) return plugin.build();
      if (kind === 'sandbox')
        return fail('--executor sandbox runs the simulated contoso.com: start it through bin/cutover-runner.mjs (or src/sandbox/runner-cli.ts)');
      return fail('--executor must be powershell, ldap or sandbox');
    }
  }
}

function listActions(asJson: boolean): void {
  const rows = actionNames.map((name) => ({
    name,
    mutation: catalog[name].mutation,
    executors: [...catalog[name].executors],
    description: catalog[name].description,
    params: describeParams(name),
  }));
  if (asJson) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  for (const r of rows) {
    process.stdout.write(`${r.name}  [${r.mutation ? 'change' : 'read'}; ${r.executors.join(', ')}]\n  ${r.description}\n`);
    for (const [k, s] of Object.entries(r.params as Record<string, any>)) {
      const type = s.enum ? s.enum.join('|') : s.type === 'array' ? `${s.items?.enum?.join('|') ?? s.items?.type}[]` : (s.type ?? s.const ?? 'value');
      process.stdout.write(`    ${k}: ${type}${s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ''}\n`);
    }
  }
}

async function execOne(action: string | undefined, v: Values, plugins: readonly ExecutorPlugin[]): Promise<number> {
  if (!action || !isActionName(action)) return fail(`exec needs an allowlisted action; see \`cutover-runner actions\` (got ${JSON.stringify(action)})`);
  let raw: unknown = {};
  if (v.params) {
    try {
      raw = JSON.parse(v.params);
    } catch {
      return fail('--params must be JSON');
    }
  }
  if (v['dry-run']) {
    const kind = (v.executor ?? fail('--executor is required')) as ExecutorKind;
    let params: unknown;
    try {
      params = parseParams(action, raw);
    } catch (err) {
      return fail((err as Error).message);
    }
    const refusal = refusalReason({ kind, run: async () => undefined }, action);
    if (refusal) return fail(refusal);
    let plan: unknown;
    if (kind === 'powershell') plan = new PowerShellExecutor({ executable: v.powershell }).dryRun(action, params);
    else if (kind === 'ldap')
      plan = {
        ldapUrl: v['ldap-url'] ?? process.env.CUTOVER_LDAP_URL ?? null,
        searchBase: (params as any).ou ?? '(rootDSE, schema NC)',
        filters: FILTERS,
        pageSizeMax: 1000,
      };
    else plan = plugins.find((p) => p.kind === kind)?.dryRunPlan(action, params) ?? { note: `the ${kind} executor is not part of the production agent` };
    process.stdout.write(`${JSON.stringify({ dryRun: true, executor: kind, action, params, plan }, null, 2)}\n`);
    return 0;
  }
  const executor = buildExecutor(v.executor, v, plugins);
  const outcome = await runAction(executor, action, raw);
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  return outcome.ok ? 0 : 1;
}

async function runAgent(v: Values, plugins: readonly ExecutorPlugin[]): Promise<number> {
  const server = v.server ?? fail('--server is required');
  const token = readSecret(v['token-file'], 'CUTOVER_RUNNER_TOKEN', 'token');
  const executor = buildExecutor(v.executor, v, plugins);
  const log = createLogger();
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
  try {
    await startAgent({ serverUrl: server, token, executor, log, signal: stop.signal, allowInsecureHttp: v['allow-insecure-http'] }).done;
    return 0;
  } catch (err) {
    log.error({ err: String(err) }, 'runner agent stopped');
    return 1;
  }
}

/** Runs the CLI on these arguments; `plugins` adds executors beyond powershell and ldap. Resolves to the exit code. */
export async function main(argv: string[], plugins: readonly ExecutorPlugin[] = []): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values as Values;
  const [command, ...rest] = parsed.positionals;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (v.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  if (command === 'actions') {
    listActions(!!v.json);
    return 0;
  }
  if (command === 'exec') return execOne(rest[0], v, plugins);
  if (command === undefined || command === 'run') return runAgent(v, plugins);
  return fail(`unknown command ${command}\n\n${USAGE}`);
}

// Run directly (`tsx src/agent/cli.ts …`); bin/cutover-runner.mjs imports main and runs it itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
