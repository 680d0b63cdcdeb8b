/**
 * A static look at infra/*.bicep without a Bicep compiler (none installs here: no Debian package, and the npm
 * wrappers download the CLI at run time). The files are parsed with tree-sitter-bicep's grammar (its WebAssembly
 * build, run by web-tree-sitter), and the syntax tree is used for what a compiler would catch first: syntax errors,
 * unknown or unused symbols, unknown functions, module parameters and outputs that do not exist, resource types
 * without an API version. A small evaluator computes the web app's settings for given parameters, so a test can
 * hand them to src/config.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

let parser: Parser | null = null;

export async function bicepParser(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  const require = createRequire(import.meta.url);
  const wasm = path.join(path.dirname(require.resolve('tree-sitter-bicep/package.json')), 'tree-sitter-bicep.wasm');
  const lang = await Language.load(wasm);
  parser = new Parser();
  parser.setLanguage(lang);
  return parser;
}

export interface BicepFile {
  file: string;
  root: Node;
  params: Map<string, { node: Node; type: string; hasDefault: boolean; secure: boolean; allowed: string[] | null; decl: Node }>;
  vars: Map<string, Node>; // name → value expression
  resources: Map<string, { type: string; body: Node; decl: Node }>;
  modules: Map<string, { path: string; body: Node; decl: Node }>;
  outputs: Map<string, Node>;
  loopVars: Set<string>;
}

const named = (n: Node) => n.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');

export function* walk(n: Node): Generator<Node> {
  yield n;
  for (const c of n.children) if (c) yield* walk(c);
}

/** The literal value of a string node without interpolation. */
export function stringValue(n: Node): string | null {
  if (n.type !== 'string') return null;
  if (n.namedChildren.some((c) => c?.type === 'interpolation')) return null;
  return n.namedChildren.map((c) => (c!.type === 'escape_sequence' ? JSON.parse(`"${c!.text.replace(/\\'/g, "'")}"`) : c!.text)).join('');
}

/** The value of an object property by key, or null. */
export function property(obj: Node | null | undefined, key: string): Node | null {
  if (!obj || obj.type !== 'object') return null;
  for (const p of named(obj)) {
    if (p.type !== 'object_property') continue;
    const [k, v] = named(p);
    if ((k.type === 'string' ? stringValue(k) : k.text) === key) return v;
  }
  return null;
}

export function objectKeys(obj: Node): string[] {
  return named(obj)
    .filter((p) => p.type === 'object_property')
    .map((p) => {
      const k = named(p)[0];
      return k.type === 'string' ? stringValue(k) ?? k.text : k.text;
    });
}

/** The object of `= {…}`, `= if (…) {…}` or `= [for … : {…}]`. */
function bodyOf(n: Node): Node {
  if (n.type === 'for_statement') return bodyOf(n.childForFieldName('body')!);
  if (n.type === 'if_statement') return named(n).filter((c) => c.type === 'object').at(-1) ?? n;
  return n;
}

function decoratorsOf(decl: Node): Node[] {
  // Decorators are the `decorators` sibling just before the declaration.
  const prev = decl.previousNamedSibling;
  return prev?.type === 'decorators' ? named(prev) : [];
}

export async function parseBicep(file: string): Promise<BicepFile> {
  const p = await bicepParser();
  const tree = p.parse(readFileSync(file, 'utf8'))!;
  const root = tree.rootNode;
  const f: BicepFile = { file, root, params: new Map(), vars: new Map(), resources: new Map(), modules: new Map(), outputs: new Map(), loopVars: new Set() };
  for (const d of named(root)) {
    const kids = named(d);
    switch (d.type) {
      case 'parameter_declaration': {
        const decorators = decoratorsOf(d).map((x) => x.text);
        const allowed = decoratorsOf(d).find((x) => x.text.startsWith('@allowed'));
        f.params.set(kids[0].text, {
          node: kids[0],
          decl: d,
          type: kids[1]?.text ?? '',
          hasDefault: kids.length > 2,
          secure: decorators.some((x) => x.startsWith('@secure')),
          allowed: allowed ? [...walk(allowed)].filter((n) => n.type === 'string').map((n) => stringValue(n) ?? '') : null,
        });
        break;
      }
      case 'variable_declaration':
        f.vars.set(kids[0].text, kids[1]);
        break;
      case 'resource_declaration':
        f.resources.set(kids[0].text, { type: stringValue(kids[1]) ?? '', body: bodyOf(kids.at(-1)!), decl: d });
        break;
      case 'module_declaration':
        f.modules.set(kids[0].text, { path: stringValue(kids[1]) ?? '', body: bodyOf(kids.at(-1)!), decl: d });
        break;
      case 'output_declaration':
        f.outputs.set(kids[0].text, kids.at(-1)!);
        break;
    }
  }
  for (const n of walk(root)) {
    if (n.type === 'loop_variable' || n.type === 'loop_enumerator') f.loopVars.add(n.text);
    if (n.type === 'for_statement') {
      const init = n.childForFieldName('initializer');
      if (init) f.loopVars.add(init.text);
    }
  }
  return f;
}

/** Syntax errors: ERROR and MISSING nodes of the grammar, with line numbers. */
export function syntaxErrors(f: BicepFile): string[] {
  const out: string[] = [];
  for (const n of walk(f.root))
    if (n.isError || n.isMissing) out.push(`${path.basename(f.file)}:${n.startPosition.row + 1}: ${n.isMissing ? `missing ${n.type}` : `cannot parse "${n.text.slice(0, 40)}"`}`);
  return out;
}

/** Bracket balance over the grammar's tokens (so braces inside strings and comments do not count). */
export function unbalanced(f: BicepFile): string[] {
  const pairs: Record<string, string> = { '}': '{', ']': '[', ')': '(' };
  const stack: Node[] = [];
  const out: string[] = [];
  for (const n of walk(f.root)) {
    if (n.childCount || n.isMissing || n.type === 'comment') continue;
    if (n.type === '{' || n.type === '[' || n.type === '(' || n.type === '${') stack.push(n);
    else if (n.type in pairs) {
      const open = stack.pop();
      const want = pairs[n.type];
      if (!open || (open.type !== want && !(want === '{' && open.type === '${'))) out.push(`${path.basename(f.file)}:${n.startPosition.row + 1}: unbalanced ${n.type}`);
    }
  }
  for (const o of stack) out.push(`${path.basename(f.file)}:${o.startPosition.row + 1}: unclosed ${o.type}`);
  return out;
}

/** Bicep's functions and decorators this project may use (https://learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions). */
export const KNOWN_FUNCTIONS = new Set([
  // decorators
  'description', 'secure', 'allowed', 'minLength', 'maxLength', 'minValue', 'maxValue', 'metadata', 'batchSize', 'export', 'sealed', 'discriminator',
  // scope and deployment
  'resourceGroup', 'subscription', 'tenant', 'managementGroup', 'deployment', 'environment',
  'resourceId', 'subscriptionResourceId', 'tenantResourceId', 'extensionResourceId', 'reference', 'listKeys', 'listSecrets',
  // strings, arrays, objects, logic
  'concat', 'contains', 'empty', 'first', 'last', 'length', 'min', 'max', 'range', 'skip', 'take', 'union', 'intersection',
  'indexOf', 'lastIndexOf', 'split', 'join', 'replace', 'toLower', 'toUpper', 'trim', 'startsWith', 'endsWith', 'substring',
  'uniqueString', 'guid', 'uri', 'uriComponent', 'uriComponentToString', 'base64', 'base64ToString', 'format', 'padLeft',
  'string', 'int', 'bool', 'json', 'any', 'array', 'coalesce', 'objectKeys', 'items', 'filter', 'map', 'reduce', 'sort', 'toObject', 'flatten',
  'loadTextContent', 'loadJsonContent', 'getSecret', 'utcNow', 'dateTimeAdd', 'newGuid',
]);

/** Identifiers used as values (not declaration names, object keys, decorator or function names). */
function referenceIdentifiers(f: BicepFile): Node[] {
  const out: Node[] = [];
  for (const n of walk(f.root)) {
    if (n.type !== 'identifier') continue;
    const parent = n.parent!;
    if (
      ['parameter_declaration', 'variable_declaration', 'resource_declaration', 'module_declaration', 'output_declaration', 'type_declaration'].includes(parent.type) &&
      parent.namedChildren[0]?.id === n.id
    )
      continue;
    if (parent.type === 'object_property' && named(parent)[0].id === n.id) continue;
    if (parent.type === 'call_expression' && parent.childForFieldName('function')?.id === n.id) continue;
    if (parent.type === 'for_statement' && parent.childForFieldName('initializer')?.id === n.id) continue;
    out.push(n);
  }
  return out;
}

export interface LintProblem {
  file: string;
  message: string;
}

/** Compiler-like checks of one file (and of the modules it calls). */
export async function lint(f: BicepFile, resolve: (p: string) => Promise<BicepFile>): Promise<string[]> {
  const where = (n: Node) => `${path.basename(f.file)}:${n.startPosition.row + 1}`;
  const problems: string[] = [...syntaxErrors(f), ...unbalanced(f)];
  const declared = new Set([...f.params.keys(), ...f.vars.keys(), ...f.resources.keys(), ...f.modules.keys(), ...f.loopVars]);
  const refs = referenceIdentifiers(f);
  const used = new Set(refs.map((r) => r.text));
  for (const r of refs) if (!declared.has(r.text)) problems.push(`${where(r)}: "${r.text}" is not declared`);
  for (const name of f.params.keys()) if (!used.has(name)) problems.push(`${path.basename(f.file)}: param ${name} is never used`);
  for (const name of f.vars.keys()) if (!used.has(name)) problems.push(`${path.basename(f.file)}: var ${name} is never used`);

  for (const n of walk(f.root)) {
    if (n.type !== 'call_expression') continue;
    const fn = n.childForFieldName('function')!;
    if (fn.type === 'identifier' && !KNOWN_FUNCTIONS.has(fn.text)) problems.push(`${where(n)}: unknown function ${fn.text}()`);
  }

  for (const [name, r] of f.resources) {
    if (!/^Microsoft\.[A-Za-z]+(\/[A-Za-z]+)+@\d{4}-\d{2}-\d{2}(-preview)?$/.test(r.type))
      problems.push(`${where(r.decl)}: resource ${name} has type '${r.type}'; expected Provider/type@yyyy-mm-dd`);
    const isChild = r.type.split('@')[0].split('/').length > 2;
    const existing = /\bexisting\s*=/.test(r.decl.text.split('\n')[0]);
    if (!existing && !property(r.body, 'name')) problems.push(`${where(r.decl)}: resource ${name} has no name`);
    if (!existing && !isChild && r.type !== '' && !r.type.startsWith('Microsoft.Authorization/') && !property(r.body, 'location'))
      problems.push(`${where(r.decl)}: resource ${name} has no location`);
    if (isChild && !existing && !property(r.body, 'parent')) problems.push(`${where(r.decl)}: child resource ${name} has no parent`);
  }

  for (const [name, m] of f.modules) {
    const target = path.resolve(path.dirname(f.file), m.path);
    let mod: BicepFile;
    try {
      mod = await resolve(target);
    } catch {
      problems.push(`${where(m.decl)}: module ${name}: ${m.path} cannot be read`);
      continue;
    }
    if (!property(m.body, 'name')) problems.push(`${where(m.decl)}: module ${name} has no deployment name`);
    const params = property(m.body, 'params');
    const given = params ? objectKeys(params) : [];
    for (const g of given) if (!mod.params.has(g)) problems.push(`${where(m.decl)}: module ${name} passes ${g}, which ${m.path} does not declare`);
    for (const [p, info] of mod.params) if (!info.hasDefault && !given.includes(p)) problems.push(`${where(m.decl)}: module ${name} does not pass required param ${p}`);
    // module.outputs.X must be an output of the module
    for (const n of walk(f.root)) {
      if (n.type !== 'member_expression') continue;
      const obj = n.childForFieldName('object');
      if (obj?.type === 'member_expression' && obj.childForFieldName('property')?.text === 'outputs' && obj.childForFieldName('object')?.text === name) {
        const out = n.childForFieldName('property')!.text;
        if (!mod.outputs.has(out)) problems.push(`${where(n)}: ${name}.outputs.${out}: ${m.path} has no output ${out}`);
      }
    }
  }

  // No secret leaves through an output.
  const secure = [...f.params].filter(([, p]) => p.secure).map(([n]) => n);
  for (const [name, value] of f.outputs)
    for (const n of walk(value)) if (n.type === 'identifier' && secure.includes(n.text)) problems.push(`${path.basename(f.file)}: output ${name} exposes @secure() param ${n.text}`);
  return problems;
}

// ---------------------------------------------------------------- a small evaluator

export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

export interface Scope {
  params: Record<string, Value>;
  vars: Map<string, Node>;
  /** Stand-ins for resources and modules (e.g. { site: { properties: { defaultHostName: … } } }). */
  symbols: Record<string, Value>;
  tenantId: string;
}

const FUNCTIONS: Record<string, (args: Value[], s: Scope) => Value> = {
  tenant: (_a, s) => ({ tenantId: s.tenantId }),
  empty: ([v]) => v === null || v === '' || (Array.isArray(v) && !v.length) || (typeof v === 'object' && v !== null && !Object.keys(v).length),
  union: (args) => Object.assign({}, ...(args as object[])),
  toLower: ([v]) => String(v).toLowerCase(),
  uriComponent: ([v]) => encodeURIComponent(String(v)),
  take: ([v, n]) => String(v).slice(0, Number(n)),
  trim: ([v]) => String(v).trim(),
  split: ([v, sep]) => String(v).split(String(sep)),
};

/** Evaluates the subset of Bicep expressions the app settings use; throws on anything else. */
export function evaluate(n: Node, s: Scope): Value {
  switch (n.type) {
    case 'string':
      return n.namedChildren
        .map((c) => {
          if (c!.type === 'interpolation') return String(evaluate(named(c!)[0], s));
          if (c!.type === 'escape_sequence') return JSON.parse(`"${c!.text.replace(/\\'/g, "'")}"`);
          return c!.text;
        })
        .join('');
    case 'number':
      return Number(n.text);
    case 'boolean':
      return n.text === 'true';
    case 'null':
      return null;
    case 'parenthesized_expression':
      return evaluate(named(n)[0], s);
    case 'identifier': {
      if (n.text in s.params) return s.params[n.text];
      const v = s.vars.get(n.text);
      if (v) return evaluate(v, s);
      if (n.text in s.symbols) return s.symbols[n.text];
      throw new Error(`evaluate: no value for ${n.text}`);
    }
    case 'member_expression': {
      const obj = evaluate(n.childForFieldName('object')!, s) as Record<string, Value>;
      const key = n.childForFieldName('property')!.text;
      if (obj === null || typeof obj !== 'object' || !(key in obj)) throw new Error(`evaluate: ${n.text}: no property ${key}`);
      return obj[key];
    }
    case 'call_expression': {
      const fn = n.childForFieldName('function')!.text;
      const impl = FUNCTIONS[fn];
      if (!impl) throw new Error(`evaluate: function ${fn}() is not supported`);
      return impl(named(n.childForFieldName('arguments')!).map((a) => evaluate(a, s)), s);
    }
    case 'ternary_expression':
      return evaluate(n.childForFieldName('condition')!, s) ? evaluate(n.childForFieldName('consequence')!, s) : evaluate(n.childForFieldName('alternative')!, s);
    case 'unary_expression': {
      const v = evaluate(n.childForFieldName('argument')!, s);
      return n.childForFieldName('operator')!.text === '!' ? !v : -(v as number);
    }
    case 'binary_expression': {
      const op = n.childForFieldName('operator')!.text;
      const l = evaluate(n.childForFieldName('left')!, s);
      if (op === '&&') return !!l && !!evaluate(n.childForFieldName('right')!, s);
      if (op === '||') return !!l || !!evaluate(n.childForFieldName('right')!, s);
      const r = evaluate(n.childForFieldName('right')!, s);
      if (op === '==') return l === r;
      if (op === '!=') return l !== r;
      if (op === '??') return l ?? r;
      throw new Error(`evaluate: operator ${op} is not supported`);
    }
    case 'object': {
      const out: Record<string, Value> = {};
      for (const p of named(n)) {
        if (p.type !== 'object_property') continue;
        const [k, v] = named(p);
        out[k.type === 'string' ? String(evaluate(k, s)) : k.text] = evaluate(v, s);
      }
      return out;
    }
    case 'array':
      return named(n).map((c) => evaluate(c, s));
  }
  throw new Error(`evaluate: ${n.type} is not supported (${n.text.slice(0, 40)})`);
}
