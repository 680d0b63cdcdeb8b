import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings, SettingsError } from './config.js';
import { buildApp } from './app.js';
import { createLogger } from './log.js';

/** `npm start`: settings, the app, and (in sandbox mode) the Microsoft 365 Agents Playground. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function startPlayground(botUrl: string, port: number, log: ReturnType<typeof createLogger>): ChildProcess | null {
  const bin = path.join(ROOT, 'node_modules', '.bin', 'agentsplayground');
  if (!existsSync(bin)) {
    log.warn('the Agents Playground is not installed (npm install includes it as a devDependency); continuing without it');
    return null;
  }
  // The Playground opens a browser with xdg-open on start and crashes where there is none.
  const shim = mkdtempSync(path.join(tmpdir(), 'cutover-xdg-'));
  writeFileSync(path.join(shim, 'xdg-open'), '#!/bin/sh\nexit 0\n');
  chmodSync(path.join(shim, 'xdg-open'), 0o755);
  const config = path.join(ROOT, '.m365agentsplayground.yml');
  const child = spawn(bin, ['-e', `${botUrl}/api/messages`, '-c', 'msteams', '--disable-telemetry', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PATH: `${shim}${path.delimiter}${process.env.PATH}`,
      TEAMSAPPTESTER_BROWSER: 'none',
      ...(existsSync(config) ? { M365_AGENTS_PLAYGROUND_CONFIG_PATH: config } : {}),
    },
  });
  child.stdout?.on('data', (d) => log.debug({ playground: String(d).trim() }, 'playground'));
  child.stderr?.on('data', (d) => log.debug({ playground: String(d).trim() }, 'playground'));
  child.on('exit', (code) => log.info({ code }, 'the Agents Playground exited'));
  return child;
}

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings(process.env, process.argv.slice(2));
  } catch (e) {
    if (e instanceof SettingsError) {
      process.stderr.write(`cutover: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger({ level: settings.LOG_LEVEL });
  const app = await buildApp(settings, { log });
  const playground = settings.sandbox && settings.PLAYGROUND ? startPlayground(app.url, settings.PLAYGROUND_PORT, log) : null;

  const lines = [
    `cutover is up (${app.tenants.length ? `sandbox tenant${app.tenants.length > 1 ? 's' : ''} ${app.tenants.map((t) => t.domain).join(', ')}` : settings.sandbox ? `sandbox joined at ${settings.SANDBOX_GRAPH_URL}` : `tenant ${settings.GRAPH_TENANT_ID}`}, store ${app.db.kind}${app.db.kind === 'pglite' ? ` in ${settings.dataDir}` : ''}, pid ${process.pid})`,
    `  bot endpoint:       ${app.url}/api/messages`,
    `  health:             ${app.url}/healthz  ${app.url}/readyz`,
  ];
  if (app.tenant) lines.push(`  Graph simulator:    ${app.tenants.map((t) => t.graphBaseUrl).join('  ')}`, `  sandbox state:      ${app.url}/sandbox/v1/state`);
  if (playground)
    lines.push(`  Agents Playground:  http://localhost:${settings.PLAYGROUND_PORT}  (open it, pick the team channel, @mention the bot and say help)`);
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight work');
    playground?.kill('SIGTERM');
    await app.stop().catch((err) => log.error({ err }, 'shutdown failed'));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`cutover failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
