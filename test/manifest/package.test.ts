import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { AppManifestUtils, TeamsManifestConverter } from '@microsoft/app-manifest';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, CommandError, parseCommand } from '../../src/bot/commands.js';
import { renderColorIcon, renderOutlineIcon } from '../../manifest/icons.js';
import {
  MANIFEST_DIR,
  ManifestError,
  TEMPLATE_PATH,
  bundledVersions,
  checkIcons,
  commandDrift,
  expectedCommands,
  commandCoverage,
  fillTemplate,
  packageTeamsApp,
  templateVariables,
} from '../../manifest/package.js';

const ENV = {
  TEAMS_APP_ID: '6f1c2a3b-1111-4222-8333-944445555666',
  MicrosoftAppId: '0A1B2C3D-AAAA-4BBB-8CCC-DDDDEEEEFFFF',
  PUBLIC_URL: 'https://cutover.contoso.com/',
};

const tmp = mkdtempSync(path.join(tmpdir(), 'cutover-manifest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const out = () => path.join(tmp, `app-${n++}.zip`);

async function refusal(p: Promise<unknown>): Promise<ManifestError> {
  const err = await p.then(
    () => null,
    (e) => e,
  );
  expect(err).toBeInstanceOf(ManifestError);
  return err as ManifestError;
}

function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const p = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) p.data.set(pixel(x, y), (y * width + x) * 4);
  return PNG.sync.write(p);
}

/** A directory with the real icons, one of them replaced. */
function iconsWith(name: 'color.png' | 'outline.png', buf: Buffer): string {
  const dir = mkdtempSync(path.join(tmp, 'icons-'));
  for (const f of ['color.png', 'outline.png']) copyFileSync(path.join(MANIFEST_DIR, f), path.join(dir, f));
  writeFileSync(path.join(dir, name), buf);
  return dir;
}

describe('Teams app package (npm run package:teams)', () => {
  it('writes a zip with manifest.json and both icons, filled from settings, that the official schema accepts', async () => {
    const outFile = out();
    const { manifest } = await packageTeamsApp({ env: ENV, outFile });
    const zip = await JSZip.loadAsync(readFileSync(outFile));
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const packaged = JSON.parse(await zip.file('manifest.json')!.async('string'));
    expect(packaged).toEqual(manifest);
    expect(packaged.id).toBe(ENV.TEAMS_APP_ID);
    expect(packaged.bots[0].botId).toBe(ENV.MicrosoftAppId.toLowerCase());
    expect(packaged.validDomains).toEqual(['cutover.contoso.com']);
    expect(packaged.version).toBe(JSON.parse(readFileSync(path.join(MANIFEST_DIR, '..', 'package.json'), 'utf8')).version);
    expect(packaged.developer.websiteUrl).toBe('https://cutover.contoso.com');
    expect(packaged.bots[0].scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(JSON.stringify(packaged)).not.toContain('${{');

    // A second opinion: @microsoft/app-manifest's own validator and typed converter, given the bundled schema.
    const require = createRequire(import.meta.url);
    const schemaFile = path.join(
      path.dirname(require.resolve('@microsoft/app-manifest/package.json')),
      'build/json-schemas/teams',
      `v${packaged.manifestVersion}`,
      'MicrosoftTeams.schema.json',
    );
    expect(await AppManifestUtils.validateAgainstSchema(packaged, JSON.parse(readFileSync(schemaFile, 'utf8')))).toEqual([]);
    expect(TeamsManifestConverter.jsonToManifest(JSON.stringify(packaged)).manifestVersion).toBe(packaged.manifestVersion);

    // The icons in the zip are the committed ones.
    expect(Buffer.compare(await zip.file('color.png')!.async('nodebuffer'), readFileSync(path.join(MANIFEST_DIR, 'color.png')))).toBe(0);
  });

  it('uses the newest manifest schema version that @microsoft/app-manifest bundles', () => {
    const template = JSON.parse(readFileSync(TEMPLATE_PATH, 'utf8'));
    const newest = bundledVersions().at(-1);
    expect(template.manifestVersion).toBe(newest);
    expect(template.$schema).toBe(`https://developer.microsoft.com/json-schemas/teams/v${newest}/MicrosoftTeams.schema.json`);
  });

  it('gives the same bytes for the same inputs', async () => {
    const [a, b] = [out(), out()];
    await packageTeamsApp({ env: ENV, outFile: a });
    await packageTeamsApp({ env: ENV, outFile: b });
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
  });

  it('refuses missing or malformed settings, naming each', async () => {
    const err = await refusal(packageTeamsApp({ env: { MicrosoftAppId: 'not-a-guid', PUBLIC_URL: 'http://cutover.contoso.com' }, outFile: out() }));
    expect(err.problems).toEqual([
      'setting TEAMS_APP_ID is required',
      'setting MicrosoftAppId must be a GUID',
      'setting PUBLIC_URL must be an https URL',
    ]);
    expect(err.message).toMatch(/^Teams app package refused:\n {2}- setting TEAMS_APP_ID is required/);
  });

  it('refuses a manifest without botId', async () => {
    const err = await refusal(packageTeamsApp({ env: ENV, outFile: out(), edit: (m) => delete m.bots[0].botId }));
    expect(err.problems).toContain("/bots/0 must have required property 'botId'");
    expect(err.problems).toContain('/bots/0: botId is missing (set MicrosoftAppId)');
  });

  it('refuses a botId that is not a GUID, and fields the schema does not know', async () => {
    const err = await refusal(
      packageTeamsApp({
        env: ENV,
        outFile: out(),
        edit: (m) => {
          m.bots[0].botId = 'cutover-bot';
          m.bots[0].color = 'red';
        },
      }),
    );
    expect(err.problems).toContain('/bots/0/botId must match pattern "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"');
    expect(err.problems).toContain("/bots/0 must NOT have additional properties ('color')");
  });

  it('refuses a color icon of the wrong size', async () => {
    const iconsDir = iconsWith('color.png', png(100, 100, () => [31, 90, 166, 255]));
    const err = await refusal(packageTeamsApp({ env: ENV, outFile: out(), iconsDir }));
    expect(err.problems).toEqual(['color.png is 100×100; the color icon must be 192×192']);
  });

  it('refuses an outline icon of the wrong size, with an opaque background, or not white', async () => {
    const big = await refusal(packageTeamsApp({ env: ENV, outFile: out(), iconsDir: iconsWith('outline.png', renderColorIcon()) }));
    expect(big.problems).toContain('outline.png is 192×192; the outline icon must be 32×32');
    expect(big.problems).toContain('outline.png must have a transparent background (its corners and most of its area fully transparent)');

    const blueOnTransparent = png(32, 32, (x, y) => (x > 8 && x < 24 && y > 8 && y < 24 ? [31, 90, 166, 255] : [0, 0, 0, 0]));
    const blue = await refusal(packageTeamsApp({ env: ENV, outFile: out(), iconsDir: iconsWith('outline.png', blueOnTransparent) }));
    expect(blue.problems).toEqual(['outline.png has 225 visible pixels that are not white; the outline must be white on transparent']);

    const notPng = await refusal(packageTeamsApp({ env: ENV, outFile: out(), iconsDir: iconsWith('outline.png', Buffer.from('GIF89a')) }));
    expect(notPng.problems[0]).toMatch(/^outline\.png is not a readable PNG/);
  });

  it('refuses a command title longer than 32 characters, a long description, and more than 10 commands', async () => {
    const long = await refusal(
      packageTeamsApp({ env: ENV, outFile: out(), edit: (m) => (m.bots[0].commandLists[0].commands[2].title = 'status of every migration in this team') }),
    );
    expect(long.problems).toContain(
      '/bots/0/commandLists/0/commands/2: title "status of every migration in this team" is 38 characters; Teams allows at most 32',
    );

    const desc = await refusal(
      packageTeamsApp({ env: ENV, outFile: out(), edit: (m) => (m.bots[0].commandLists[0].commands[0].description = 'x'.repeat(129)) }),
    );
    expect(desc.problems).toContain('/bots/0/commandLists/0/commands/0 ("help"): description is 129 characters; Teams allows at most 128');

    const many = await refusal(
      packageTeamsApp({ env: ENV, outFile: out(), edit: (m) => m.bots[0].commandLists[0].commands.push({ title: 'ping', description: 'Pong.' }) }),
    );
    expect(many.problems).toContain('/bots/0/commandLists/0 has 11 commands; Teams shows at most 10 per list');
  });

  it('refuses a bot without the team, groupChat and personal scopes', async () => {
    const err = await refusal(packageTeamsApp({ env: ENV, outFile: out(), edit: (m) => (m.bots[0].scopes = ['personal']) }));
    expect(err.problems).toContain('/bots/0/scopes must include team');
    expect(err.problems).toContain('/bots/0/commandLists/0: scope groupChat is not one of the bot\'s scopes');
  });

  it('fills placeholders inside string values only, and names a placeholder no setting provides', () => {
    const vars = templateVariables({ ...ENV, TEAMS_DEVELOPER_NAME: 'Contoso "IT"' });
    const filled = fillTemplate({ a: '${{TEAMS_DEVELOPER_NAME}}', b: ['x-${{PUBLIC_HOST}}'] }, vars);
    expect(filled).toEqual({ a: 'Contoso "IT"', b: ['x-cutover.contoso.com'] });
    expect(() => fillTemplate({ a: '${{BOT_PASSWORD}}' }, vars)).toThrow('the template uses ${{BOT_PASSWORD}}, which no setting provides');
  });
});

describe('npm run package:teams (the CLI)', () => {
  const ROOT = path.join(MANIFEST_DIR, '..');
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'manifest/package.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('reads settings from --env-file (the environment wins) and writes the zip given by --out', () => {
    const envFile = path.join(tmp, 'env.prod');
    writeFileSync(envFile, `TEAMS_APP_ID=${ENV.TEAMS_APP_ID}\nMicrosoftAppId=${ENV.MicrosoftAppId}\nPUBLIC_URL=https://from-file.contoso.com\n`);
    const zip = path.join(tmp, 'cli.zip');
    const r = run(['--env-file', envFile, '--out', zip], { PUBLIC_URL: 'https://from-env.contoso.com' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('manifest 1.');
    expect(r.stdout).toContain('validDomains from-env.contoso.com');
    expect(existsSync(zip)).toBe(true);
  });

  it('exits 1 with the list of problems, and writes nothing', () => {
    const zip = path.join(tmp, 'refused.zip');
    const r = run(['--out', zip], { MicrosoftAppId: ENV.MicrosoftAppId, PUBLIC_URL: ENV.PUBLIC_URL });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('Teams app package refused:\n  - setting TEAMS_APP_ID is required\n');
    expect(existsSync(zip)).toBe(false);
  });
});

describe('the manifest\'s commands are the bot\'s commands (src/bot/commands.ts)', () => {
  const template = JSON.parse(readFileSync(TEMPLATE_PATH, 'utf8'));
  const lists: Array<{ scopes: string[]; commands: Array<{ title: string; description: string }> }> = template.bots[0].commandLists;

  const all = lists.flatMap((l) => l.commands);

  it('each list is the bot\'s commands in the bot\'s order (at most 10 each), and together they are all of them', () => {
    expect(lists.length).toBeGreaterThan(0);
    for (const l of lists) {
      expect(commandDrift(l.commands)).toEqual([]);
      expect(l.commands.length).toBeLessThanOrEqual(10);
    }
    expect(commandCoverage(all)).toEqual([]);
    expect(new Set(all.map((c) => c.title))).toEqual(new Set(expectedCommands(COMMANDS).map((c) => c.title)));
    expect(lists.flatMap((l) => l.scopes).sort()).toEqual(['groupChat', 'personal', 'team']);
  });

  it('covers every entry of COMMANDS', () => {
    const titles = all.map((c) => c.title);
    for (const c of COMMANDS) {
      const first = c.usage.split(/\s+/)[0];
      expect(titles.some((t) => t.split(' ')[0] === first), c.usage).toBe(true);
    }
  });

  it('each title is understood by the bot (it starts a command, or asks for its arguments)', () => {
    for (const { title } of all) {
      let parsed: ReturnType<typeof parseCommand> | CommandError;
      try {
        parsed = parseCommand(title);
      } catch (err) {
        parsed = err as CommandError;
      }
      if (parsed instanceof CommandError) continue;
      expect(parsed, title).not.toHaveProperty('unknown');
      if (title !== 'help') expect((parsed as { name: string }).name, title).not.toBe('help');
    }
  });

  it('drift is caught: a new bot command, a renamed one, or a changed description', () => {
    const cmds = lists[0].commands;
    expect(commandCoverage(all, [...COMMANDS, { usage: 'reconcile <migration>', description: 'Reconcile now.' }])).toEqual([
      'the bot\'s command "reconcile" is missing from every list',
    ]);
    expect(commandDrift(cmds.map((c) => (c.title === 'jobs' ? { ...c, title: 'job' } : c)))).toEqual([
      'command "job" is not one of the bot\'s commands (src/bot/commands.ts)',
    ]);
    expect(commandCoverage(all.filter((c) => c.title !== 'jobs'))).toEqual(['the bot\'s command "jobs" is missing from every list']);
    expect(commandDrift(cmds.map((c) => (c.title === 'alerts' ? { ...c, description: 'Alerts.' } : c)))).toEqual([
      'command "alerts": description differs from src/bot/commands.ts ("Open alerts with their age.")',
    ]);
  });
});

describe('icons', () => {
  it('the committed icons pass the checks', () => {
    expect(checkIcons({ color: readFileSync(path.join(MANIFEST_DIR, 'color.png')), outline: readFileSync(path.join(MANIFEST_DIR, 'outline.png')) })).toEqual([]);
  });

  it('the committed icons are what manifest/icons.ts draws (regenerate with `npx tsx manifest/icons.ts`)', () => {
    for (const [file, buf] of [['color.png', renderColorIcon()], ['outline.png', renderOutlineIcon()]] as const) {
      const committed = PNG.sync.read(readFileSync(path.join(MANIFEST_DIR, file)));
      const drawn = PNG.sync.read(buf);
      expect([committed.width, committed.height]).toEqual([drawn.width, drawn.height]);
      expect(Buffer.compare(committed.data, drawn.data), file).toBe(0);
    }
  });
});
