import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The Bot Framework lives in src/bot only: the move to the M365 Agents SDK stays one room. */
const SRC = path.resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('rooms', () => {
  it('only src/bot imports botbuilder', () => {
    const offenders = files(SRC)
      .filter((f) => !f.startsWith(path.join(SRC, 'bot') + path.sep))
      .filter((f) => /from ['"](botbuilder|botframework-[a-z-]+)['"]/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('the engine, Graph, runner and monitor do not import the bot room', () => {
    const rooms = ['runbooks', 'graph', 'runner', 'agent', 'monitor', 'store', 'sandbox'];
    const offenders = rooms.flatMap((r) => files(path.join(SRC, r))).filter((f) => /from ['"]\.\.\/(\.\.\/)?bot\//.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('only src/telemetry imports OpenTelemetry or Azure Monitor (the rooms use its Tracer interface)', () => {
    const offenders = files(SRC)
      .filter((f) => !f.startsWith(path.join(SRC, 'telemetry') + path.sep))
      .filter((f) => /from ['"]@opentelemetry\/|import\(['"]@opentelemetry\/|['"]@azure\/monitor-opentelemetry['"]/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('cards are JSON templates in cards/, not card JSON built in src', () => {
    const offenders = files(SRC).filter((f) => /['"]type['"]\s*:\s*['"]AdaptiveCard['"]|type:\s*'AdaptiveCard'/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });
});
