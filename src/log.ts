import { pino, type Logger } from 'pino';

/** Paths whose values are secrets: never written to a log line. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  '*.clientSecret',
  'clientSecret',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'MicrosoftAppPassword',
  '*.MicrosoftAppPassword',
  'bindPassword',
  '*.bindPassword',
  'GRAPH_CLIENT_SECRET',
  '*.GRAPH_CLIENT_SECRET',
  'GRAPH_TENANTS',
  '*.GRAPH_TENANTS',
  'DATABASE_URL',
  '*.DATABASE_URL',
  'databaseUrl',
  '*.databaseUrl',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  '*.APPLICATIONINSIGHTS_CONNECTION_STRING',
  'connectionString',
  '*.connectionString',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { level: opts.level ?? process.env.LOG_LEVEL ?? 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { app: 'cutover' } },
    (opts.destination as any) ?? undefined,
  );
}

export type { Logger };
