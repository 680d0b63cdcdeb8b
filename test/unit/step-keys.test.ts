import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNBOOKS } from '../../src/runbooks/catalog.js';
import { INCIDENT_STEPS } from '../../src/runbooks/definitions/incident-steps.js';
import type { MigrationContext, RunnerSequence, StepDefinition } from '../../src/runbooks/types.js';

/**
 * A runbook is data: the engine and the monitor carry out what step definitions declare (guards, evidence, what a
 * step's success establishes) and name no step and no action. Step keys, runner action names and Graph operations
 * belong in src/runbooks/definitions/ (and the runner reads in src/runbooks/runner-reads.ts).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The engine's files (the facade and its rooms under src/runbooks/) and the whole monitor. */
const ENGINE_FILES = [
  'engine.ts',
  'engine-types.ts',
  'engine-context.ts',
  'store.ts',
  'clicks.ts',
  'step-runs.ts',
  'batches.ts',
  'recovery.ts',
  'guards.ts',
  'plans.ts',
  'migrations.ts',
  'housekeeping.ts',
  'snapshot.ts',
];
const SCANNED = [...ENGINE_FILES.map((f) => path.join(SRC, 'runbooks', f)), ...files(path.join(SRC, 'monitor'))];

const everyStep: StepDefinition[] = [...Object.values(RUNBOOKS).flatMap((rb) => [...rb.steps, ...(rb.rollbackSteps ?? [])]), ...INCIDENT_STEPS];

const stepKeys = new Set(everyStep.map((s) => s.key));

/** Graph operations, as the GraphOperation union in types.ts lists them. */
function graphOperations(): Set<string> {
  const text = readFileSync(path.join(SRC, 'runbooks', 'types.ts'), 'utf8');
  const union = /export type GraphOperation\s*=([\s\S]*?);/.exec(text)?.[1] ?? '';
  return new Set([...union.matchAll(/'([a-z0-9-]+)'/g)].map((m) => m[1]));
}

/** The runner's action names, from its catalog (`'name': define(`), wherever the catalog lives. */
function runnerActions(): Set<string> {
  const names = new Set<string>();
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    if (!/export const catalog\s*=\s*\{/.test(text)) continue;
    for (const m of text.matchAll(/^\s*'([a-z0-9-]+)':\s*define\(/gm)) names.add(m[1]);
  }
  return names;
}

/** Contexts a step's sequence is evaluated in: with another batch staying on Cloud Sync, and alone. */
const ctxs: MigrationContext[] = [true, false].map((many) => ({
  migrationId: 'm',
  name: 'm',
  domain: 'contoso.com',
  tenantId: 't',
  batch: 1,
  ou: 'OU=A,DC=contoso,DC=com',
  allOus: ['OU=A,DC=contoso,DC=com', 'OU=B,DC=contoso,DC=com'],
  batchOus: many ? ['OU=A,DC=contoso,DC=com', 'OU=B,DC=contoso,DC=com'] : ['OU=A,DC=contoso,DC=com'],
  rollbackOus: ['OU=A,DC=contoso,DC=com'],
  partial: false,
  runnerName: null,
  options: {},
}));

/** The runner actions a step runs (its sequence or its verification), with their parameters, in every context. */
function runnerActionsOf(s: StepDefinition): { action: string; params: Record<string, unknown> }[] {
  const seq = s.action.kind === 'runner' ? s.action.sequence : s.action.kind === 'manual' && s.action.verify?.kind === 'runner' ? s.action.verify.sequence : [];
  return ctxs.flatMap((c) => seq.map((a) => ({ action: typeof a.action === 'function' ? a.action(c) : a.action, params: a.params(c) })));
}

/** Every runner action a step's sequences can name, in a batch and out of one. */
function actionsOfDefinitions(): Set<string> {
  const out = new Set<string>();
  const add = (seq: RunnerSequence) => {
    for (const a of seq) for (const c of ctxs) out.add(typeof a.action === 'function' ? a.action(c) : a.action);
  };
  for (const s of everyStep) {
    if (s.action.kind === 'runner') add(s.action.sequence);
    if (s.action.kind === 'manual' && s.action.verify?.kind === 'runner') add(s.action.verify.sequence);
    if (s.preview) add(s.preview.reads);
  }
  return out;
}

/**
 * The string literals of a file (quoted strings and the text parts of templates), with their line numbers; comments
 * and regular expressions are not strings. A small scanner: TypeScript 7 ships no compiler API to parse with.
 */
function stringLiterals(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let i = 0;
  let line = 1;
  /** The last significant character outside strings and comments: a `/` after one of these starts a regex. */
  let prev = '';
  const templates: number[] = []; // brace depth inside each open template's `${`
  const lineAt = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (text[k] === '\n') line++;
  };
  const readTemplate = () => {
    // at the character after a backtick or after the `}` closing a substitution
    let buf = '';
    const start = line;
    while (i < text.length) {
      const c = text[i];
      if (c === '\\') {
        buf += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '`') {
        i++;
        out.push({ text: buf, line: start });
        prev = 'x';
        return;
      }
      if (c === '$' && text[i + 1] === '{') {
        i += 2;
        out.push({ text: buf, line: start });
        templates.push(0);
        prev = '(';
        return;
      }
      if (c === '\n') line++;
      buf += c;
      i++;
    }
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const to = end < 0 ? text.length : end + 2;
      lineAt(i, to);
      i = to;
      continue;
    }
    if (c === "'" || c === '"') {
      let buf = '';
      i++;
      while (i < text.length && text[i] !== c && text[i] !== '\n') {
        if (text[i] === '\\') {
          buf += text[i + 1];
          i += 2;
        } else buf += text[i++];
      }
      i++;
      out.push({ text: buf, line });
      prev = 'x';
      continue;
    }
    if (c === '`') {
      i++;
      readTemplate();
      continue;
    }
    if (
      c === '/' &&
      (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || /\b(return|typeof|case|in|of)$/.test(text.slice(Math.max(0, i - 8), i).trimEnd()))
    ) {
      // a regular expression literal: to its closing slash outside a character class
      let inClass = false;
      i++;
      while (i < text.length && text[i] !== '\n') {
        if (text[i] === '\\') i += 2;
        else if (text[i] === '[') {
          inClass = true;
          i++;
        } else if (text[i] === ']') {
          inClass = false;
          i++;
        } else if (text[i] === '/' && !inClass) break;
        else i++;
      }
      i++;
      prev = 'x';
      continue;
    }
    if (templates.length) {
      if (c === '{') templates[templates.length - 1]++;
      if (c === '}') {
        if (templates[templates.length - 1] === 0) {
          templates.pop();
          i++;
          readTemplate();
          continue;
        }
        templates[templates.length - 1]--;
      }
    }
    prev = /[A-Za-z0-9_$)\]]/.test(c) ? 'x' : c;
    i++;
  }
  return out;
}

describe('a runbook is data: the engine and the monitor name no step and no action', () => {
  const actions = runnerActions();
  const operations = graphOperations();

  it('knows the keys it looks for (every runner action a step names is in the catalog it found)', () => {
    expect(stepKeys.size).toBeGreaterThan(20);
    expect(operations.size).toBeGreaterThan(5);
    expect([...actionsOfDefinitions()].filter((a) => !actions.has(a))).toEqual([]);
  });

  it('reads string literals, not comments or regular expressions', () => {
    const src = "// 'a-comment'\n/* 'b' */ const x = 'one'; const y = /['\"]z/.test(\"two\");\nconst t = `three${f('four')}five`;";
    expect(stringLiterals(src).map((l) => l.text)).toEqual(['one', 'two', 'three', 'four', 'five']);
  });

  it('no step key, runner action or Graph operation is a string literal in the engine or the monitor', () => {
    const known = new Map<string, string>();
    for (const k of stepKeys) known.set(k, 'step key');
    for (const a of actions) known.set(a, known.has(a) ? `${known.get(a)} / runner action` : 'runner action');
    for (const o of operations) known.set(o, known.has(o) ? `${known.get(o)} / Graph operation` : 'Graph operation');
    for (const f of SCANNED) expect(statSync(f).isFile()).toBe(true);
    const offenders = SCANNED.flatMap((f) =>
      stringLiterals(readFileSync(f, 'utf8'))
        .filter((l) => known.has(l.text))
        .map((l) => `${path.relative(ROOT, f)}:${l.line} '${l.text}' (${known.get(l.text)})`),
    );
    expect(offenders).toEqual([]);
  });
});

/**
 * What a step declares it establishes must be what its actions do: the engine and the monitor trust the declarations
 * (the scheduler hold, rule changes, OUs on Cloud Sync), so a step whose actions change must change them too.
 */
describe("step declarations agree with the steps' actions", () => {
  it('the scheduler as a step leaves it is what its set-scheduler (and set-adsync-service) actions say', () => {
    for (const s of everyStep) {
      const actions = runnerActionsOf(s);
      const sets = actions.filter((a) => a.action === 'set-scheduler');
      const declared = s.establishes?.scheduler;
      if (!sets.length) {
        expect({ step: s.key, scheduler: declared }).toEqual({ step: s.key, scheduler: undefined });
        continue;
      }
      const stopped = actions.some((a) => a.action === 'set-adsync-service' && a.params.running === false);
      expect({ step: s.key, enabled: declared?.enabled, serviceStopped: !!declared?.serviceStopped }).toEqual({
        step: s.key,
        enabled: sets.at(-1)!.params.enabled,
        serviceStopped: stopped,
      });
    }
  });

  it('a rule change is a step that makes or removes the no-flow rules', () => {
    for (const s of everyStep) {
      const rules = runnerActionsOf(s).some((a) => a.action === 'create-noflow-rules' || a.action === 'remove-noflow-rules');
      expect({ step: s.key, ruleChange: !!s.establishes?.ruleChange }).toEqual({ step: s.key, ruleChange: rules });
    }
  });

  it("an OU is on Cloud Sync once the step configuring Cloud Sync's scope for it succeeded", () => {
    for (const s of everyStep) {
      const configures = s.action.kind === 'graph' && s.action.operation === 'configure-cloud-sync';
      expect({ step: s.key, ouOnCloudSync: !!s.establishes?.ouOnCloudSync }).toEqual({ step: s.key, ouOnCloudSync: configures });
    }
  });
});
