/**
 * PowerShell syntax without PowerShell: tree-sitter-powershell's WebAssembly grammar run by web-tree-sitter, so these
 * checks run on any machine. With pwsh (scripts/install-engines.sh), test/powershell/*.Tests.ps1 also parse the
 * scripts with PowerShell's own parser and run them under Pester (npm run test:powershell).
 * Known false positive of the grammar (0.26.4): a parameter name ending in a digit (`-GroupWritebackV2 $false`) is
 * read as a stream redirection (`2>`), so such a line reports a missing ">".
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

let parser: Parser | null = null;

export async function powershellParser(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  const require = createRequire(import.meta.url);
  const wasm = path.join(path.dirname(require.resolve('tree-sitter-powershell/package.json')), 'tree-sitter-powershell.wasm');
  const p = new Parser();
  p.setLanguage(await Language.load(wasm));
  return (parser = p);
}

export function* walk(n: Node): Generator<Node> {
  yield n;
  for (const c of n.children) if (c) yield* walk(c);
}

export function syntaxErrors(root: Node): string[] {
  const out: string[] = [];
  for (const n of walk(root))
    if (n.isError || n.isMissing) out.push(`line ${n.startPosition.row + 1}: ${n.isMissing ? `missing ${n.type}` : `cannot parse "${n.text.slice(0, 50)}"`}`);
  return out;
}

/** Every command invocation: its name as written and the text of its arguments. */
export function commands(root: Node): Array<{ name: string; args: string; line: number; node: Node }> {
  const out: Array<{ name: string; args: string; line: number; node: Node }> = [];
  for (const n of walk(root)) {
    if (n.type !== 'command') continue;
    const name = n.childForFieldName('command_name');
    out.push({ name: name?.text ?? '', args: n.childForFieldName('command_elements')?.text ?? '', line: n.startPosition.row + 1, node: n });
  }
  return out;
}
