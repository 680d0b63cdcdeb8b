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

// ---------------------------------------------------------------- the rooms and who may import whom
//
// A room is a folder of src/ (actions, agent, bot, graph, monitor, reports, runbooks, runner, sandbox, store,
// telemetry). The files at the top of src/ are either the composition root (app.ts, index.ts) or the shared kernel
// every room may use (clock, config, dn, identity, log: no room of their own, they import no room).
//
// Every import counts: `import … from`, `export … from`, `import '…'`, `import('…')` (also in type positions), and
// `import type` too. A type-only import loads nothing at run time, but it still ties the importing room to the other
// room's definitions (it breaks when they change, and it is how one room's knowledge leaks into another: the
// runbooks' `import type { PendingExports }` from the agent was exactly that), so the boundary rules below refuse it
// like any other import. Types that two rooms really share belong in a contract room both import (src/actions).
// Only the wiring rule looks at value imports alone: a type cannot be constructed or started.

const ROOT_FILES = ['app.ts', 'index.ts'];
const KERNEL = ['clock', 'config', 'dn', 'identity', 'log'];

interface Import {
  /** The importing file, relative to src/. */
  file: string;
  line: number;
  spec: string;
  /** The imported file relative to src/ (.js spelled .ts), or null for a package. */
  target: string | null;
  typeOnly: boolean;
  dynamic: boolean;
  /** Local names bound to values (not types) by a static import. */
  values: string[];
}

/** The room of a file relative to src/: its folder, or for a top-level file 'root' or its kernel module name. */
function roomOf(rel: string): string {
  const parts = rel.split('/');
  if (parts.length > 1) return parts[0];
  return ROOT_FILES.includes(parts[0]) ? 'root' : parts[0].replace(/\.[cm]?[jt]s$/, '');
}

const CLAUSE = String.raw`(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)`;
const STATIC_RE = new RegExp(String.raw`^[ \t]*(import|export)\s+(type\s+)?(${CLAUSE})\s*from\s*['"]([^'"]+)['"]`, 'gm');
const SIDE_EFFECT_RE = /^[ \t]*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC_RE = /\bimport\(\s*(['"`])([^'"`]+)\1\s*\)/g;
const DYNAMIC_ANY_RE = /\bimport\(\s*(?!['"`])/;

function resolveTarget(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return posix(path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), spec))).replace(/\.js$/, '.ts');
}

function valueNames(kind: string, typeKeyword: boolean, clause: string): string[] {
  if (kind === 'export' || typeKeyword) return [];
  const names: string[] = [];
  const def = /^(\w+)/.exec(clause);
  if (def) names.push(def[1]);
  const ns = /\*\s+as\s+(\w+)/.exec(clause);
  if (ns) names.push(ns[1]);
  const braces = /\{([^}]*)\}/.exec(clause);
  for (const item of braces?.[1].split(',') ?? []) {
    const m = /^\s*(type\s+)?(\w+)(?:\s+as\s+(\w+))?\s*$/.exec(item);
    if (m && !m[1]) names.push(m[3] ?? m[2]);
  }
  return names;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const lineAt = (i: number) => text.slice(0, i).split('\n').length;
  const out: Import[] = [];
  for (const m of text.matchAll(STATIC_RE)) {
    const [, kind, typeKw, clause, spec] = m;
    const braces = /\{([^}]*)\}/.exec(clause)?.[1];
    const allTypes = !!braces && !/^\w/.test(clause) && braces.split(',').every((s) => !s.trim() || /^\s*type\s/.test(s));
    out.push({
      file,
      line: lineAt(m.index!),
      spec,
      target: resolveTarget(file, spec),
      typeOnly: !!typeKw || allTypes,
      dynamic: false,
      values: valueNames(kind, !!typeKw, clause),
    });
  }
  for (const m of text.matchAll(SIDE_EFFECT_RE))
    out.push({ file, line: lineAt(m.index!), spec: m[1], target: resolveTarget(file, m[1]), typeOnly: false, dynamic: false, values: [] });
  for (const m of text.matchAll(DYNAMIC_RE))
    out.push({ file, line: lineAt(m.index!), spec: m[2], target: resolveTarget(file, m[2]), typeOnly: false, dynamic: true, values: [] });
  return out;
}

const posix = (p: string) => p.split(path.sep).join('/');
const SRC_FILES = files(SRC).map((f) => posix(path.relative(SRC, f)));
const IMPORTS = SRC_FILES.flatMap(importsOf);
const show = (i: Import) => `${i.file}:${i.line} imports ${i.spec}${i.typeOnly ? ' (type only)' : ''}${i.dynamic ? ' (dynamic)' : ''}`;
const crossRoom = (i: Import) => i.target !== null && roomOf(i.file) !== roomOf(i.target);

/**
 * What each room must not import, and why (../shared/DESIGN.md "Boundaries", issue 19). The bot is refused to every
 * room: Teams and the Bot Framework stay in one room, and alerts leave the monitor through a port the bot implements.
 */
const ROOMS = readdirSync(SRC).filter((f) => statSync(path.join(SRC, f)).isDirectory());
const FORBIDDEN: Record<string, { rooms: string[]; why: string }> = {
  runbooks: {
    rooms: ['bot', 'sandbox', 'agent'],
    why: 'the domain knows no Teams, never knows it is rehearsing, and reaches runners only through the runner hub and the actions contract',
  },
  graph: { rooms: ['bot', 'sandbox'], why: 'the Graph client knows no Teams and never knows it is rehearsing' },
  runner: { rooms: ['bot', 'agent'], why: 'the control plane speaks the runner protocol and the actions contract, not the agent' },
  monitor: { rooms: ['bot'], why: 'alerts leave the monitor through a port the bot implements' },
  store: { rooms: ['bot'], why: 'SQL and migrations know no Teams' },
  agent: {
    rooms: ['bot', 'runbooks', 'store', 'sandbox', 'runner'],
    why: 'it ships alone to the Connect server, decides nothing, holds no database and speaks only the runner protocol',
  },
  actions: {
    rooms: ROOMS.filter((r) => r !== 'actions'),
    why: 'the actions contract is shared by the agent, the runner and the runbooks, and depends on none of them',
  },
};
for (const r of ROOMS) if (r !== 'bot' && !FORBIDDEN[r]) FORBIDDEN[r] = { rooms: ['bot'], why: 'Teams stays in the bot room' };

/**
 * The composition root wires rooms: it constructs each room's parts and hands them to one another. Besides
 * src/app.ts and src/index.ts, the program entry points are composition roots of their own programs, each named by
 * package.json (checked below): the runner agent's CLI (bin/cutover-runner.mjs), the sandbox's runner entry point
 * (bin/cutover-runner.mjs with --executor sandbox: the agent's CLI with the sandbox executor plugged in, which the
 * agent may not import) and `npm run audit:verify` (opens the store to check the audit chain).
 */
const COMPOSITION_ROOTS = ['app.ts', 'index.ts', 'agent/cli.ts', 'sandbox/runner-cli.ts', 'runbooks/audit-cli.ts'];
/** Starting, opening, creating or connecting something of another room is wiring, like `new`. */
const FACTORY = /^(start|open|create|connect)[A-Z]/;

function wiringOutsideRoots(): string[] {
  const found: string[] = [];
  for (const file of SRC_FILES.filter((f) => !COMPOSITION_ROOTS.includes(f))) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    const lines = text.split('\n');
    for (const i of importsOf(file).filter((i) => crossRoom(i) && !i.typeOnly && !KERNEL.includes(roomOf(i.target!)))) {
      for (const name of i.values) {
        // Constructing another room's error to throw it is not wiring.
        if (/Error$/.test(name)) continue;
        const use = new RegExp(FACTORY.test(name) ? String.raw`\b${name}\s*\(` : String.raw`\bnew\s+${name}\b`);
        lines.forEach((l, n) => {
          if (use.test(l)) found.push(`${file}:${n + 1} ${FACTORY.test(name) ? `calls ${name}` : `new ${name}`} (${roomOf(i.target!)})`);
        });
      }
    }
  }
  return found;
}

describe('boundaries (../shared/DESIGN.md, issue 19)', () => {
  it('sees every import: a dynamic import names its module literally', () => {
    const offenders = SRC_FILES.filter((f) => DYNAMIC_ANY_RE.test(readFileSync(path.join(SRC, f), 'utf8').replace(/\/\/.*$/gm, '')));
    expect(offenders).toEqual([]);
    // and the parser finds the imports it should (a broken pattern would pass every rule)
    expect(IMPORTS.some((i) => i.file === 'runner/hub.ts' && i.target === 'actions/index.ts')).toBe(true);
    expect(IMPORTS.some((i) => i.dynamic && i.file === 'store/db.ts')).toBe(true);
    expect(IMPORTS.some((i) => i.typeOnly && i.file === 'agent/executors/types.ts' && i.target === 'actions/index.ts')).toBe(true);
  });

  for (const [room, rule] of Object.entries(FORBIDDEN)) {
    it(`${room}/ imports nothing of ${rule.rooms.join(', ')}: ${rule.why}`, () => {
      const offenders = IMPORTS.filter((i) => roomOf(i.file) === room && i.target && rule.rooms.includes(roomOf(i.target)));
      expect(offenders.map(show)).toEqual([]);
    });
  }

  it('the actions contract imports no other room (the shared kernel and zod only)', () => {
    const offenders = IMPORTS.filter((i) => roomOf(i.file) === 'actions' && crossRoom(i) && !KERNEL.includes(roomOf(i.target!)));
    expect(offenders.map(show)).toEqual([]);
  });

  it('the agent, the runner control plane and the runbooks take the actions contract from src/actions', () => {
    for (const room of ['agent', 'runner', 'runbooks'])
      expect(
        IMPORTS.some((i) => roomOf(i.file) === room && i.target && roomOf(i.target) === 'actions'),
        room,
      ).toBe(true);
  });

  it('what ships to the Connect server (the agent from its entry points) reaches only the agent, the actions contract and the kernel', () => {
    const seen = new Set<string>();
    const todo = ['agent/cli.ts', 'agent/index.ts'];
    while (todo.length) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const i of importsOf(f)) if (i.target) todo.push(i.target);
    }
    const outside = [...seen].filter((f) => !['agent', 'actions', ...KERNEL].includes(roomOf(f)));
    expect(outside).toEqual([]);
  });

  it('the shared kernel imports no room', () => {
    const offenders = IMPORTS.filter((i) => KERNEL.includes(roomOf(i.file)) && crossRoom(i) && !KERNEL.includes(roomOf(i.target!)));
    expect(offenders.map(show)).toEqual([]);
  });

  it('no room imports the composition root', () => {
    const offenders = IMPORTS.filter((i) => i.target && ROOT_FILES.includes(i.target) && i.file !== 'index.ts');
    expect(offenders.map(show)).toEqual([]);
  });

  it('only the composition root wires rooms: no other file constructs, starts or opens a part of another room', () => {
    expect(wiringOutsideRoots()).toEqual([]);
  });

  it('the composition roots besides src/app.ts and src/index.ts are real program entry points', () => {
    const pkg = JSON.parse(readFileSync(path.join(SRC, '..', 'package.json'), 'utf8'));
    const bin = readFileSync(path.join(SRC, '..', 'bin', 'cutover-runner.mjs'), 'utf8');
    const named = `${Object.values(pkg.scripts).join('\n')}\n${bin}`;
    for (const f of COMPOSITION_ROOTS.filter((f) => !ROOT_FILES.includes(f))) expect(named, f).toContain(`src/${f}`);
  });
});
