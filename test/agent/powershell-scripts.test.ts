import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionNames, catalog, parseParams } from '../../src/actions/index.js';
import { PowerShellExecutor, SCRIPTS_DIR } from '../../src/agent/executors/powershell.js';
import { SAMPLE_PARAMS } from './sample-params.js';

/**
 * House rules for the action scripts, checked without PowerShell: a small lexer that understands comments,
 * single-quoted strings and line continuations, and rules that make interpolation and dynamic code impossible rather
 * than merely absent (no Invoke-Expression, no double-quoted strings, parameters only from stdin…).
 *
 * PowerShell itself checks the rest, in `npm run test:powershell` (CI installs pwsh with scripts/install-engines.sh):
 * test/powershell/Compatibility.Tests.ps1 parses every script with PowerShell's own parser and refuses what Windows
 * PowerShell 5.1 lacks, and test/powershell/ActionScripts.Tests.ps1 runs each script under pwsh, as the agent does,
 * against the sandbox's simulated Connect server.
 */

type Token = { kind: 'comment' | 'string' | 'code'; text: string; line: number };

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let code = '';
  let codeLine = 1;
  const flush = () => {
    if (code) out.push({ kind: 'code', text: code, line: codeLine });
    code = '';
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '#' && src.startsWith('#Requires', i) === false) {
      flush();
      const end = src.indexOf('\n', i);
      out.push({ kind: 'comment', text: src.slice(i, end < 0 ? undefined : end), line });
      i = end < 0 ? src.length : end;
      continue;
    }
    if (c === '<' && src[i + 1] === '#') throw new Error(`line ${line}: block comments are not allowed (keep the lexer simple)`);
    if (c === "'") {
      flush();
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= src.length) throw new Error(`line ${line}: unterminated single-quoted string`);
        if (src[j] === "'" && src[j + 1] === "'") {
          text += "'";
          j += 2;
          continue;
        }
        if (src[j] === "'") break;
        if (src[j] === '\n') throw new Error(`line ${line}: multi-line string`);
        text += src[j++];
      }
      out.push({ kind: 'string', text, line });
      i = j + 1;
      continue;
    }
    if (!code) codeLine = line;
    if (c === '\n') line++;
    code += c;
    i++;
  }
  flush();
  return out;
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bInvoke-Expression\b|\biex\b/i, 'Invoke-Expression'],
  [/\bInvoke-Command\b|\bicm\b/i, 'Invoke-Command'],
  [/\bStart-Process\b|\bsaps\b/i, 'Start-Process'],
  [/\bAdd-Type\b/i, 'Add-Type'],
  [/\[scriptblock\]|ScriptBlock\]::Create|NewScriptBlock|InvokeScript/i, 'dynamic script blocks'],
  [/\$ExecutionContext\b/i, '$ExecutionContext'],
  [/-EncodedCommand|-enc\b/i, 'encoded commands'],
  [/&\s*[$(]/, 'call operator on a variable or expression'],
  [/(^|[\s;])\.\s+\$/m, 'dot-sourcing a variable'],
  [/\$args\b/i, '$args (parameters come only from stdin JSON)'],
  [/\bparam\s*\(/i, 'a param() block (parameters come only from stdin JSON)'],
  [/\bRead-Host\b/i, 'Read-Host'],
  [/"/, 'double-quoted strings (they expand $variables and $(…)); use single quotes'],
  [/@'|@"/, 'here-strings'],
  [/\bReadToEnd\b/i, 'reading stdin outside _common.ps1'],
  [/\bFormat-|-f\s/i, 'string formatting'],
  [/`(?!\r?\n)/, 'backtick escapes (only line continuations are allowed)'],
];

function check(file: string): string[] {
  const src = readFileSync(path.join(SCRIPTS_DIR, file), 'utf8');
  const problems: string[] = [];
  let tokens: Token[];
  try {
    tokens = lex(src);
  } catch (err) {
    return [(err as Error).message];
  }
  const code = tokens.filter((t) => t.kind === 'code');
  const joined = code.map((t) => t.text).join(' ');
  for (const [re, what] of FORBIDDEN) {
    if (file === '_common.ps1' && what.startsWith('reading stdin')) continue;
    for (const t of code) if (re.test(t.text)) problems.push(`line ${t.line}: ${what}`);
  }
  // Balanced delimiters outside strings and comments: a cheap parse that catches truncated edits.
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (const ch of joined) {
    if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) problems.push(`unbalanced ${ch}`);
  }
  if (stack.length) problems.push(`unclosed ${stack.join('')}`);
  if (!src.startsWith('#Requires -Version 5.1')) problems.push('must start with #Requires -Version 5.1');
  if (file !== '_common.ps1') {
    const lines = src.split('\n');
    const dot = lines.filter((l) => /^\.\s/.test(l));
    if (dot.length !== 1 || dot[0].trim() !== ". (Join-Path $PSScriptRoot '_common.ps1')") problems.push('must dot-source only _common.ps1, by $PSScriptRoot');
    if ((joined.match(/Read-CutoverInput/g) ?? []).length !== 1) problems.push('must read its input exactly once with Read-CutoverInput');
    if (!/catch \{ Write-CutoverError \$_ \}\s*$/.test(src)) problems.push('must end with catch { Write-CutoverError $_ }');
  } else if ((src.match(/\[Console\]::In\.ReadToEnd\(\)/g) ?? []).length !== 1) problems.push('stdin must be read in exactly one place');
  return problems;
}

describe('PowerShell action scripts', () => {
  const files = readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith('.ps1'));

  it('exist for exactly the actions the powershell executor supports', () => {
    const want = actionNames.filter((a) => catalog[a].executors.includes('powershell')).map((a) => `${a}.ps1`);
    expect(files.filter((f) => f !== '_common.ps1').sort()).toEqual(want.sort());
  });

  for (const file of readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith('.ps1')))
    it(`${file} passes the static check (no dynamic code, no interpolation, params only from stdin JSON)`, () => {
      expect(check(file)).toEqual([]);
    });

  it('the static check catches what it is meant to catch', () => {
    const bad = [
      'Invoke-Expression $p.params.ou',
      'Write-Output "OU is $($p.params.ou)"',
      '& $p.params.command',
      'iex ([Console]::In.ReadToEnd())',
      'Write-Output `$(Remove-ADSyncRule)',
      "Get-ADUser -Filter ('name -eq {0}' -f $x)",
    ];
    for (const line of bad) {
      const toks = lex(line).filter((t) => t.kind === 'code');
      const hit = FORBIDDEN.some(([re]) => toks.some((t) => re.test(t.text)));
      expect(hit, line).toBe(true);
    }
  });
});

// ---------------------------------------------------------------- golden parameter JSON

describe('PowerShell parameter JSON (golden)', () => {
  const golden = path.join(path.dirname(new URL(import.meta.url).pathname), 'golden', 'powershell-stdin.json');
  it('is exactly what each script reads on stdin', () => {
    const exec = new PowerShellExecutor({ executable: 'pwsh' });
    const actual: Record<string, unknown> = {};
    for (const a of actionNames.filter((n) => catalog[n].executors.includes('powershell')))
      actual[a] = JSON.parse(exec.invocation(a, parseParams(a, SAMPLE_PARAMS[a])).stdin);
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
  });

  it('the command line carries no parameter data, only the fixed script path', () => {
    const exec = new PowerShellExecutor({ executable: 'powershell.exe' });
    const inv = exec.invocation('ad-count', parseParams('ad-count', { ou: "OU=x'; Remove-ADSyncRule -Identifier *,DC=contoso,DC=com".replace(';', '\\;') }));
    expect(inv.args).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-File', path.join(SCRIPTS_DIR, 'ad-count.ps1')]);
    expect(JSON.parse(inv.stdin).params.ou).toContain('Remove-ADSyncRule'); // inert data
  });

  it('dry run shows the exact script and stdin without running anything', () => {
    const exec = new PowerShellExecutor({ executable: '/nonexistent/pwsh' });
    const d = exec.dryRun('set-scheduler', parseParams('set-scheduler', { enabled: true }));
    expect(d.script).toContain('Set-ADSyncScheduler -SyncCycleEnabled $enabled');
    expect(JSON.parse(d.stdin)).toEqual({ action: 'set-scheduler', params: { enabled: true, waitForIdle: false } });
  });
});

describe('PowerShell scripts speak UTF-8 both ways', () => {
  const common = readFileSync(path.join(SCRIPTS_DIR, '_common.ps1'), 'utf8');

  it('_common.ps1 sets Console input and output encoding to UTF-8 without BOM before reading stdin', () => {
    const code = lex(common)
      .filter((t) => t.kind !== 'comment')
      .map((t) => (t.kind === 'string' ? `'${t.text}'` : t.text))
      .join('');
    const utf8 = code.indexOf('New-Object System.Text.UTF8Encoding -ArgumentList $false');
    const inEnc = code.indexOf('[Console]::InputEncoding = $script:CutoverUtf8');
    const outEnc = code.indexOf('[Console]::OutputEncoding = $script:CutoverUtf8');
    const read = code.indexOf('[Console]::In.ReadToEnd()');
    expect(utf8).toBeGreaterThanOrEqual(0);
    expect(inEnc).toBeGreaterThan(utf8);
    expect(outEnc).toBeGreaterThan(utf8);
    // The encodings are set at load time (top level), the read happens later inside Read-CutoverInput.
    expect(code.indexOf('function Read-CutoverInput')).toBeGreaterThan(Math.max(inEnc, outEnc));
    expect(read).toBeGreaterThan(Math.max(inEnc, outEnc));
  });

  it('a non-ASCII DN (OU=Société) reaches the script as UTF-8 bytes that decode to the same DN', () => {
    const exec = new PowerShellExecutor({ executable: 'pwsh' });
    const ou = 'OU=Société,DC=contoso,DC=com';
    const inv = exec.invocation('get-noflow-status', parseParams('get-noflow-status', { ou }));
    const bytes = Buffer.from(inv.stdin, 'utf8');
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false); // no BOM
    expect(bytes.includes(Buffer.from('Société', 'utf8'))).toBe(true);
    expect(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).params.ou).toBe(ou);
    const rules = JSON.parse(exec.invocation('create-noflow-rules', parseParams('create-noflow-rules', SAMPLE_PARAMS['create-noflow-rules'])).stdin);
    expect(rules.plan[0].scope[1][0].value).toBe('OU=Société,OU=Sales,DC=contoso,DC=com');
  });

  it('no script file starts with a BOM and every one is valid UTF-8', () => {
    for (const f of readdirSync(SCRIPTS_DIR).filter((x) => x.endsWith('.ps1'))) {
      const buf = readFileSync(path.join(SCRIPTS_DIR, f));
      expect(buf[0], f).not.toBe(0xef);
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(buf), f).not.toThrow();
    }
  });
});
