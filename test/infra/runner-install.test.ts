import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Node } from 'web-tree-sitter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { RunnerHub } from '../../src/runner/index.js';
import { openPglite, type Db } from '../../src/store/db.js';
import { commands, powershellParser, syntaxErrors, walk } from './powershell.js';

/**
 * infra/runner/install.ps1 needs Windows to run whole (test/powershell/RunnerInstall.Tests.ps1 binds its parameters
 * and runs its functions under pwsh with the Windows commands mocked). Here, without PowerShell, it is held to: a clean parse by the
 * tree-sitter PowerShell grammar; validated parameters (and the validation patterns tried on good and bad input, as
 * .NET would: case-insensitive); no dynamic code or downloads; the token never printed and written only into a
 * file locked down first; firewall rules that let node.exe out on TCP 443 and nothing else; a non-elevated task;
 * agent options that the agent's CLI has; a token pattern that accepts the tokens the runner hub issues.
 *
 * (test/agent's checker for the action scripts is private to its test file and has rules for a different kind of
 * script: params only from stdin, no double quotes. This one parses instead of lexing.)
 */

const FILE = fileURLToPath(new URL('../../infra/runner/install.ps1', import.meta.url));
const src = readFileSync(FILE, 'utf8');
let root: Node;

beforeAll(async () => {
  root = (await powershellParser()).parse(src)!.rootNode;
});

const cmds = () => commands(root);
const named = (n: Node) => n.namedChildren.filter((c): c is Node => !!c);

interface Param {
  name: string;
  attributes: string[];
  sets: string[];
}

function params(): Param[] {
  const block = [...walk(root)].find((n) => n.type === 'param_block')!;
  return [...walk(block)]
    .filter((n) => n.type === 'script_parameter')
    .map((p) => {
      const attributes = [...walk(p)].filter((n) => n.type === 'attribute').map((a) => a.text);
      return {
        name: named(p).find((c) => c.type === 'variable')!.text.slice(1),
        attributes,
        sets: attributes.flatMap((a) => [...a.matchAll(/ParameterSetName\s*=\s*'([^']+)'/g)].map((m) => m[1])),
      };
    });
}

/** The ValidatePattern of a parameter as a JS RegExp, case-insensitive like PowerShell's. */
function pattern(name: string): RegExp {
  const attr = params().find((p) => p.name === name)!.attributes.find((a) => a.startsWith('[ValidatePattern('))!;
  const literal = /^\[ValidatePattern\('((?:[^']|'')*)'\)\]$/.exec(attr)![1].replace(/''/g, "'");
  return new RegExp(literal, 'i');
}

describe('infra/runner/install.ps1', () => {
  it('parses (tree-sitter PowerShell grammar) with no error', () => {
    expect(syntaxErrors(root)).toEqual([]);
  });

  it('the grammar does catch broken PowerShell', async () => {
    const p = await powershellParser();
    expect(syntaxErrors(p.parse("function f {\n  if ($x) { 'a'\n")!.rootNode).length).toBeGreaterThan(0);
    expect(syntaxErrors(p.parse("$a = @{ b = 1\nWrite-Host 'x'\n")!.rootNode).length).toBeGreaterThan(0);
  });

  it('needs Windows PowerShell 5.1 and an elevated session', () => {
    expect(src.startsWith('#Requires -Version 5.1\n#Requires -RunAsAdministrator\n')).toBe(true);
  });

  it('has the Install, RotateToken and Uninstall parameter sets', () => {
    const ps = params();
    expect(new Set(ps.flatMap((p) => p.sets))).toEqual(new Set(['Install', 'RotateToken', 'Uninstall']));
    const rotate = ps.find((p) => p.name === 'RotateToken')!;
    expect(rotate.attributes.join(' ')).toMatch(/Mandatory = \$true, ParameterSetName = 'RotateToken'/);
    expect(rotate.attributes).toContain('[switch]');
  });

  it('validates every parameter (or takes it as a switch, a SecureString or a PSCredential)', () => {
    for (const p of params()) {
      const safeType = p.attributes.some((a) => /^\[(switch|System\.Security\.SecureString|System\.Management\.Automation\.PSCredential)\]$/i.test(a));
      const validated = p.attributes.some((a) => /^\[Validate(Pattern|Set|Script|Range|NotNullOrEmpty)\(/.test(a));
      expect(safeType || validated, `$${p.name}`).toBe(true);
    }
  });

  it('its validation patterns accept what they should and refuse the rest', () => {
    const server = pattern('Server');
    for (const ok of ['https://cutover.contoso.com', 'https://cutover-app.azurewebsites.net/', 'HTTPS://Cutover.Contoso.COM']) expect(server.test(ok), ok).toBe(true);
    for (const bad of ['http://cutover.contoso.com', 'https://cutover.contoso.com:8443', 'https://cutover.contoso.com/x', 'https://localhost', "https://a.b'; calc", 'https://a.b" --tls-insecure', 'https://-a.b'])
      expect(server.test(bad), bad).toBe(false);

    const account = pattern('ServiceAccount');
    for (const ok of ['CONTOSO\\gmsa-cutover$', 'contoso.com\\svc_cutover', 'CONTOSO\\svc.cutover']) expect(account.test(ok), ok).toBe(true);
    for (const bad of ['gmsa-cutover$', 'CONTOSO\\svc cutover', 'CONTOSO\\a;b', 'CONTOSO\\a"b', 'CONTOSO\\$', 'C\\toolongname-for-samaccount$'])
      expect(account.test(bad), bad).toBe(false);

    const pkg = pattern('Package');
    expect(pkg.test('C:\\temp\\cutover-0.1.0.tgz')).toBe(true);
    expect(pkg.test('C:\\temp\\cutover.zip')).toBe(true);
    expect(pkg.test('C:\\temp\\cutover.exe')).toBe(false);

    const dir = pattern('InstallDir');
    expect(dir.test('C:\\Program Files\\cutover-runner')).toBe(true);
    for (const bad of ['\\\\server\\share\\x', 'C:\\x";calc', 'C:\\..\\Windows', 'C:\\a\\..\\b', 'relative\\dir', 'C:\\a&b'])
      expect(dir.test(bad), bad).toBe(false);
  });

  it('runs no dynamic code and downloads nothing', () => {
    const forbidden = /^(Invoke-Expression|iex|Invoke-Command|icm|Add-Type|Invoke-WebRequest|iwr|curl|wget|Invoke-RestMethod|irm|Start-BitsTransfer|Set-ExecutionPolicy|Start-Process|saps)$/i;
    for (const c of cmds()) expect(forbidden.test(c.name), `line ${c.line}: ${c.name}`).toBe(false);
    for (const n of walk(root)) if (n.type === 'command_invokation_operator') expect(n.parent!.text, `line ${n.startPosition.row + 1}`).not.toMatch(/^[&.]\s*\$/);
    expect(src).not.toMatch(/ScriptBlock\]::Create|NewScriptBlock|-EncodedCommand|DownloadString|DownloadFile|@'|@"/i);
    expect(src).not.toMatch(/ConvertTo-SecureString[^\n]*-AsPlainText/i);
  });

  it('never prints or logs the token, and writes it only into a file that was locked down first', () => {
    const secretVars = /\$(plain|Token|password|bstr)\b/i;
    for (const c of cmds())
      if (/^(Write-(Host|Output|Verbose|Debug|Information|Warning|Error)|Out-File|Set-Content|Add-Content|Out-String|Format-\w+)$/i.test(c.name))
        expect(secretVars.test(c.args), `line ${c.line}: ${c.name} ${c.args}`).toBe(false);
    for (const n of walk(root)) if (n.type === 'throw_statement' || (n.type === 'command' && /^throw$/i.test(n.text.split(/\s/)[0]))) expect(secretVars.test(n.text)).toBe(false);

    const fn = [...walk(root)].find((n) => n.type === 'function_statement' && /function Write-TokenFile/.test(n.text))!;
    const body = fn.text;
    const lockTmp = body.indexOf("Set-RestrictedAcl -Path $tmp -AccountSid $AccountSid -Rights 'Read'");
    const write = body.indexOf('[System.IO.File]::WriteAllText($tmp, $plain');
    const lockDir = body.indexOf("Set-RestrictedAcl -Path $DataDir -AccountSid $AccountSid -Rights 'ReadAndExecute'");
    expect(lockDir).toBeGreaterThan(-1);
    expect(lockTmp).toBeGreaterThan(lockDir);
    expect(write).toBeGreaterThan(lockTmp);
    expect(body).toContain('Move-Item -LiteralPath $tmp -Destination $TokenFile -Force');
    expect((src.match(/\$plain/g) ?? []).length).toBe(5); // assigned, checked, returned, read, written: nowhere else
    expect(src).toContain('$acl.SetAccessRuleProtection($true, $false)'); // no inherited access
    expect(src).toContain('ZeroFreeBSTR');
    expect(src).toContain("Read-Host -AsSecureString");
  });

  it('lets node.exe out on TCP 443 only and nothing in', () => {
    const rules = cmds().filter((c) => c.name === 'New-NetFirewallRule');
    expect(rules.length).toBe(4);
    const allow = rules.filter((r) => /-Action Allow/.test(r.args));
    expect(allow.map((r) => r.args.trim().replace(/^@common\s+/, ''))).toEqual(["-DisplayName 'cutover-runner: HTTPS out' -Direction Outbound -Protocol TCP -RemotePort 443 -Action Allow"]);
    const blocks = rules.filter((r) => /-Action Block/.test(r.args)).map((r) => r.args);
    expect(blocks.some((b) => /-Direction Outbound -Protocol TCP -RemotePort '1-442', '444-65535'/.test(b))).toBe(true);
    expect(blocks.some((b) => /-Direction Outbound -Protocol UDP/.test(b))).toBe(true);
    expect(blocks.some((b) => /-Direction Inbound/.test(b) && !/-Protocol/.test(b))).toBe(true);
    for (const r of rules) expect(r.args.trim().startsWith('@common ')).toBe(true);
    expect(src).toMatch(/\$common = @\{ Group = \$FirewallGroup; Program = \$NodePath; Profile = 'Any'; Enabled = 'True' \}/);
  });

  it('runs the agent as the service account, not elevated, with the options the agent CLI has', () => {
    expect(src).not.toMatch(/RunLevel Highest/i);
    expect((src.match(/-RunLevel Limited/g) ?? []).length).toBe(2);
    expect(src).toContain('New-ScheduledTaskPrincipal -UserId $ServiceAccount -LogonType Password -RunLevel Limited');
    const cli = readFileSync(fileURLToPath(new URL('../../src/agent/cli.ts', import.meta.url)), 'utf8');
    for (const opt of ['server', "'token-file'", 'executor']) expect(cli).toMatch(new RegExp(`^\\s+${opt}: \\{ type: 'string' \\}`, 'm'));
    expect(src).toMatch(/" --server ' \+ \$serverUrl \+ ' --token-file "' \+ \$TokenFile \+ '" --executor powershell/);
  });

  describe('the token pattern', () => {
    let db: Db;
    beforeAll(async () => {
      db = await openPglite(null);
    });
    afterAll(async () => {
      await db.close?.();
    });

    it('accepts the tokens the runner hub issues and refuses anything else', async () => {
      const hub = new RunnerHub({ db, clock: new ManualClock('2026-11-21T09:00:00Z'), log: createLogger({ level: 'silent' }), onJobSettled: async () => {} });
      const tokenPattern = new RegExp(/\$TokenPattern = '([^']+)'/.exec(src)![1], 'i');
      for (let i = 0; i < 5; i++) {
        const { token } = await hub.createRunner({ name: `connect-${i}`, tenantId: 't1' });
        expect(tokenPattern.test(token), token.slice(0, 20)).toBe(true);
        expect(tokenPattern.test(`${token}; calc`)).toBe(false);
        expect(tokenPattern.test(token.slice(0, -1))).toBe(false);
      }
      expect(tokenPattern.test('hunter2')).toBe(false);
    });
  });

  it('-RotateToken restarts the task; -Uninstall removes the task, the firewall rules and the token', () => {
    const sw = [...walk(root)].find((n) => n.type === 'switch_statement')!.text;
    const rotate = sw.slice(sw.indexOf("'RotateToken'"), sw.indexOf("'Uninstall'"));
    expect(rotate).toMatch(/Write-TokenFile[\s\S]*Stop-ScheduledTask[\s\S]*Start-ScheduledTask/);
    const uninstall = sw.slice(sw.indexOf("'Uninstall'"));
    expect(uninstall).toMatch(/Unregister-ScheduledTask/);
    expect(uninstall).toMatch(/Remove-NetFirewallRule/);
    expect(uninstall).toMatch(/Remove-Item -LiteralPath \$TokenFile/);
  });
});
