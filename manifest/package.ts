/**
 * Builds the Teams app package: fills manifest.template.json from settings, validates the result against the
 * official manifest JSON schema bundled in @microsoft/app-manifest (no network) plus the Teams rules that schema
 * does not express, checks the icons, and zips manifest.json + color.png + outline.png.
 *
 *   TEAMS_APP_ID=<guid> MicrosoftAppId=<guid> PUBLIC_URL=https://cutover.contoso.com npm run package:teams
 *   npm run package:teams -- --env-file env/.env.prod --out manifest/build/cutover-teams-app.zip
 *
 * Settings (environment, or a KEY=VALUE file given with --env-file):
 *   TEAMS_APP_ID          the Teams app id: a GUID you generate once and keep for every later version
 *   MicrosoftAppId        the bot's Entra app id (for msaAppType UserAssignedMSI: the managed identity's client id)
 *   PUBLIC_URL            https URL where cutover is reachable; its host becomes validDomains
 *   TEAMS_APP_VERSION     optional, default: package.json's version (bump it for every upload)
 *   TEAMS_DEVELOPER_NAME  optional, default "cutover"
 *   TEAMS_DEVELOPER_URL, TEAMS_PRIVACY_URL, TEAMS_TERMS_URL   optional https URLs, default PUBLIC_URL
 */
import { readFileSync, mkdirSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import AjvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { z } from 'zod';
import { COMMANDS } from '../src/bot/commands.js';

const AjvDraft04 = ((AjvDraft04Module as any).default ?? AjvDraft04Module) as typeof import('ajv-draft-04').default;
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as typeof import('ajv-formats').default;

export const MANIFEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const TEMPLATE_PATH = path.join(MANIFEST_DIR, 'manifest.template.json');
export const DEFAULT_OUT = path.join(MANIFEST_DIR, 'build', 'cutover-teams-app.zip');
const ROOT = path.resolve(MANIFEST_DIR, '..');

/** Teams' own limits for bot command lists, stricter than the JSON schema (which allows 12 commands, 128-char titles). */
export const TEAMS_LIMITS = { commandsPerList: 10, titleLength: 32, descriptionLength: 128 } as const;
export const ICON_SIZES = { color: 192, outline: 32 } as const;

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Teams app package refused:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

// ---------------------------------------------------------------- settings → template variables

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a GUID');
const httpsUrl = z.string().url('an https URL').refine((u) => u.startsWith('https://'), 'an https URL');

const inputSchema = z.object({
  TEAMS_APP_ID: guid,
  MicrosoftAppId: guid,
  PUBLIC_URL: httpsUrl,
  TEAMS_APP_VERSION: z.string().regex(/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/, 'a version like 1.2.3').optional(),
  TEAMS_DEVELOPER_NAME: z.string().min(1).max(32).optional(),
  TEAMS_DEVELOPER_URL: httpsUrl.optional(),
  TEAMS_PRIVACY_URL: httpsUrl.optional(),
  TEAMS_TERMS_URL: httpsUrl.optional(),
});

/** The template's variables from settings; throws ManifestError naming each missing or malformed setting. */
export function templateVariables(env: Record<string, string | undefined>): Record<string, string> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = inputSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ManifestError(
      parsed.error.issues.map((i) => {
        const name = i.path.join('.');
        return name in cleaned ? `setting ${name} must be ${i.message.replace(/^Invalid input: expected /, '')}` : `setting ${name} is required`;
      }),
    );
  }
  const s = parsed.data;
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const site = s.PUBLIC_URL.replace(/\/+$/, '');
  return {
    TEAMS_APP_ID: s.TEAMS_APP_ID.toLowerCase(),
    MicrosoftAppId: s.MicrosoftAppId.toLowerCase(),
    PUBLIC_HOST: new URL(s.PUBLIC_URL).host,
    APP_VERSION: s.TEAMS_APP_VERSION ?? pkg.version,
    TEAMS_DEVELOPER_NAME: s.TEAMS_DEVELOPER_NAME ?? 'cutover',
    TEAMS_DEVELOPER_URL: s.TEAMS_DEVELOPER_URL ?? site,
    TEAMS_PRIVACY_URL: s.TEAMS_PRIVACY_URL ?? site,
    TEAMS_TERMS_URL: s.TEAMS_TERMS_URL ?? site,
  };
}

const PLACEHOLDER = /\$\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

/** Replaces ${{NAME}} inside the template's string values (never in its JSON text, so a value cannot inject JSON). */
export function fillTemplate<T>(template: T, vars: Record<string, string>): T {
  const missing = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string')
      return v.replace(PLACEHOLDER, (_m, name: string) => {
        if (!(name in vars)) missing.add(name);
        return vars[name] ?? '';
      });
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(template) as T;
  if (missing.size) throw new ManifestError([...missing].map((n) => `the template uses \${{${n}}}, which no setting provides`));
  return out;
}

// ---------------------------------------------------------------- the official schema

function appManifestDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@microsoft/app-manifest/package.json'));
}

/** Manifest versions whose JSON schema @microsoft/app-manifest bundles, numbered ones only, oldest first. */
export function bundledVersions(): string[] {
  const dir = path.join(appManifestDir(), 'build', 'json-schemas', 'teams');
  return readdirSync(dir)
    .filter((d) => /^v\d+\.\d+$/.test(d) && existsSync(path.join(dir, d, 'MicrosoftTeams.schema.json')))
    .map((d) => d.slice(1))
    .sort((a, b) => {
      const [a1, a2] = a.split('.').map(Number);
      const [b1, b2] = b.split('.').map(Number);
      return a1 - b1 || a2 - b2;
    });
}

export const schemaUrl = (version: string) => `https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`;

const validators = new Map<string, ReturnType<InstanceType<typeof AjvDraft04>['compile']>>();

/** Compiles the bundled schema of that version (draft-04, hence ajv-draft-04; formats as @microsoft/app-manifest adds them). */
function validatorFor(version: string) {
  let v = validators.get(version);
  if (!v) {
    const file = path.join(appManifestDir(), 'build', 'json-schemas', 'teams', `v${version}`, 'MicrosoftTeams.schema.json');
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    if (!String(schema.$schema).includes('draft-04')) throw new Error(`${file}: expected a draft-04 schema, found ${schema.$schema}`);
    const ajv = new AjvDraft04({ allErrors: true, strictTypes: false });
    addFormats(ajv, ['uri', 'email', 'regex']);
    validators.set(version, (v = ajv.compile(schema)));
  }
  return v;
}

// ---------------------------------------------------------------- the bot's commands

/**
 * The command list the manifest must carry, derived from the bot's COMMANDS: a command's title is its usage up to
 * the first argument (`status [migration]` → `status`); alternatives (`runner add <name> | runner revoke <name>`)
 * share their common words (`runner`); entries with the same title (the form and the one-line `new migration`)
 * are listed once, with the first entry's description.
 */
export function expectedCommands(commands = COMMANDS): Array<{ title: string; description: string }> {
  const keywords = (usage: string) => {
    const words: string[] = [];
    for (const w of usage.trim().split(/\s+/)) {
      // arguments: [optional], "quoted", key=value, or a placeholder in capitals (MIGRATION, NAME, KIND)
      if (/^[[<"“(]/.test(w) || w.includes('=') || /^[A-Z][A-Z_]*$/.test(w)) break;
      words.push(w);
    }
    return words;
  };
  const out: Array<{ title: string; description: string }> = [];
  for (const c of commands) {
    const alts = c.usage.split('|').map(keywords);
    let common = alts[0];
    for (const a of alts.slice(1)) {
      let i = 0;
      while (i < common.length && i < a.length && common[i] === a[i]) i++;
      common = common.slice(0, i);
    }
    const title = common.join(' ');
    if (title && !out.some((o) => o.title === title)) out.push({ title, description: c.description });
  }
  return out;
}

// ---------------------------------------------------------------- validation

function ajvProblem(e: { instancePath: string; message?: string; params?: Record<string, unknown> }): string {
  const where = e.instancePath || '(manifest)';
  const extra =
    e.params && 'additionalProperty' in e.params
      ? ` ('${e.params.additionalProperty}')`
      : e.params && 'allowedValues' in e.params
        ? ` (${JSON.stringify(e.params.allowedValues)})`
        : '';
  return `${where} ${e.message ?? 'is invalid'}${extra}`;
}

/** Every problem with a filled manifest: the official schema first, then Teams' rules, then drift from the bot. */
export function validateManifest(manifest: any, opts: { commands?: typeof COMMANDS } = {}): string[] {
  const problems: string[] = [];
  const version = manifest?.manifestVersion;
  if (typeof version !== 'string' || !bundledVersions().includes(version)) {
    return [`manifestVersion ${JSON.stringify(version)} has no schema in @microsoft/app-manifest (it has ${bundledVersions().join(', ')})`];
  }
  if (manifest.$schema !== schemaUrl(version)) problems.push(`$schema must be ${schemaUrl(version)} for manifestVersion ${version}`);
  const validate = validatorFor(version);
  if (!validate(manifest)) problems.push(...(validate.errors ?? []).map(ajvProblem));

  const leftovers = JSON.stringify(manifest).match(PLACEHOLDER);
  if (leftovers) problems.push(`unfilled placeholders: ${[...new Set(leftovers)].join(', ')}`);

  const bots: any[] = Array.isArray(manifest.bots) ? manifest.bots : [];
  if (bots.length !== 1) problems.push('the manifest must declare exactly one bot');
  for (const [bi, bot] of bots.entries()) {
    if (!bot || typeof bot !== 'object') continue;
    if (!bot.botId) problems.push(`/bots/${bi}: botId is missing (set MicrosoftAppId)`);
    for (const scope of ['team', 'groupChat', 'personal'])
      if (!bot.scopes?.includes(scope)) problems.push(`/bots/${bi}/scopes must include ${scope}`);
    const lists: any[] = Array.isArray(bot.commandLists) ? bot.commandLists : [];
    for (const [li, list] of lists.entries()) {
      const at = `/bots/${bi}/commandLists/${li}`;
      const cmds: any[] = Array.isArray(list?.commands) ? list.commands : [];
      if (cmds.length > TEAMS_LIMITS.commandsPerList)
        problems.push(`${at} has ${cmds.length} commands; Teams shows at most ${TEAMS_LIMITS.commandsPerList} per list`);
      for (const s of list?.scopes ?? []) if (!bot.scopes?.includes(s)) problems.push(`${at}: scope ${s} is not one of the bot's scopes`);
      for (const [ci, c] of cmds.entries()) {
        if (typeof c?.title === 'string' && c.title.length > TEAMS_LIMITS.titleLength)
          problems.push(`${at}/commands/${ci}: title "${c.title}" is ${c.title.length} characters; Teams allows at most ${TEAMS_LIMITS.titleLength}`);
        if (typeof c?.description === 'string' && c.description.length > TEAMS_LIMITS.descriptionLength)
          problems.push(`${at}/commands/${ci} ("${c.title}"): description is ${c.description.length} characters; Teams allows at most ${TEAMS_LIMITS.descriptionLength}`);
        if (!c?.description) problems.push(`${at}/commands/${ci} ("${c?.title}"): description is missing`);
      }
      const titles = cmds.map((c) => c?.title);
      const dup = titles.find((t, i) => titles.indexOf(t) !== i);
      if (dup !== undefined) problems.push(`${at}: command "${dup}" is listed twice`);
      problems.push(...commandDrift(cmds, opts.commands).map((p) => `${at}: ${p}`));
    }
    // Teams shows at most 10 commands per list: lists per scope may each carry a subset, together all of them.
    problems.push(...commandCoverage(lists.flatMap((l) => (Array.isArray(l?.commands) ? l.commands : [])), opts.commands).map((p) => `/bots/${bi}/commandLists: ${p}`));
  }
  for (const d of manifest.validDomains ?? [])
    if (typeof d === 'string' && (/[/:]/.test(d) || !d.includes('.'))) problems.push(`validDomains entry "${d}" must be a host name only (no scheme, port or path)`);
  return problems;
}

/** How one manifest command list differs from the bot's COMMANDS: unknown commands, other descriptions, another order. */
export function commandDrift(cmds: Array<{ title?: string; description?: string }>, commands = COMMANDS): string[] {
  const want = expectedCommands(commands);
  const problems: string[] = [];
  for (const c of cmds) {
    const w = want.find((x) => x.title === c.title);
    if (!w) problems.push(`command "${c.title}" is not one of the bot's commands (src/bot/commands.ts)`);
    else if (c.description !== w.description) problems.push(`command "${w.title}": description differs from src/bot/commands.ts ("${w.description}")`);
  }
  const order = cmds.map((c) => want.findIndex((w) => w.title === c.title)).filter((i) => i >= 0);
  if (!problems.length && order.some((v, i) => i > 0 && v < order[i - 1])) problems.push(`commands are not in the bot's order: ${want.map((w) => w.title).join(', ')}`);
  return problems;
}

/** Every command of the bot is in at least one list. */
export function commandCoverage(all: Array<{ title?: string }>, commands = COMMANDS): string[] {
  return expectedCommands(commands)
    .filter((w) => !all.some((c) => c.title === w.title))
    .map((w) => `the bot's command "${w.title}" is missing from every list`);
}

/** Size, format and (for the outline) transparency and whiteness of the two icons. */
export function checkIcons(icons: { color: Buffer; outline: Buffer }, names = { color: 'color.png', outline: 'outline.png' }): string[] {
  const problems: string[] = [];
  const read = (buf: Buffer, name: string): PNG | null => {
    try {
      return PNG.sync.read(buf);
    } catch (err) {
      problems.push(`${name} is not a readable PNG (${(err as Error).message})`);
      return null;
    }
  };
  const color = read(icons.color, names.color);
  if (color && (color.width !== ICON_SIZES.color || color.height !== ICON_SIZES.color))
    problems.push(`${names.color} is ${color.width}×${color.height}; the color icon must be ${ICON_SIZES.color}×${ICON_SIZES.color}`);
  const outline = read(icons.outline, names.outline) as (PNG & { alpha?: boolean }) | null; // pngjs sets alpha; its types omit it
  if (outline) {
    const { width: w, height: h, data } = outline;
    if (w !== ICON_SIZES.outline || h !== ICON_SIZES.outline)
      problems.push(`${names.outline} is ${w}×${h}; the outline icon must be ${ICON_SIZES.outline}×${ICON_SIZES.outline}`);
    if (!outline.alpha) problems.push(`${names.outline} has no alpha channel; the outline icon needs a transparent background`);
    else {
      let transparent = 0;
      let opaque = 0;
      let notWhite = 0;
      for (let i = 0; i < w * h; i++) {
        const [r, g, b, a] = [data[i * 4], data[i * 4 + 1], data[i * 4 + 2], data[i * 4 + 3]];
        if (a === 0) transparent++;
        else {
          if (a >= 128) opaque++;
          if (r < 250 || g < 250 || b < 250) notWhite++;
        }
      }
      const corners = [0, w - 1, (h - 1) * w, h * w - 1].map((i) => data[i * 4 + 3]);
      if (corners.some((a) => a !== 0) || transparent < (w * h) / 4)
        problems.push(`${names.outline} must have a transparent background (its corners and most of its area fully transparent)`);
      if (notWhite) problems.push(`${names.outline} has ${notWhite} visible pixels that are not white; the outline must be white on transparent`);
      if (!opaque) problems.push(`${names.outline} has no visible outline`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- packaging

export interface PackageOptions {
  env?: Record<string, string | undefined>;
  templatePath?: string;
  iconsDir?: string;
  outFile?: string;
  /** Applied to the filled manifest before validation (tests use it to break things). */
  edit?: (manifest: any) => void;
}

export async function packageTeamsApp(opts: PackageOptions = {}): Promise<{ outFile: string; manifest: any }> {
  const vars = templateVariables(opts.env ?? process.env);
  const template = JSON.parse(readFileSync(opts.templatePath ?? TEMPLATE_PATH, 'utf8'));
  const manifest = fillTemplate(template, vars);
  opts.edit?.(manifest);

  const iconsDir = opts.iconsDir ?? MANIFEST_DIR;
  const names = { color: String(manifest.icons?.color ?? 'color.png'), outline: String(manifest.icons?.outline ?? 'outline.png') };
  const problems = validateManifest(manifest);
  const icons: { color?: Buffer; outline?: Buffer } = {};
  for (const k of ['color', 'outline'] as const) {
    const file = path.join(iconsDir, names[k]);
    if (path.basename(names[k]) !== names[k]) problems.push(`icons.${k} must be a file name at the package root, not ${names[k]}`);
    else if (!existsSync(file)) problems.push(`icons.${k}: ${file} does not exist`);
    else icons[k] = readFileSync(file);
  }
  if (icons.color && icons.outline) problems.push(...checkIcons({ color: icons.color, outline: icons.outline }, names));
  if (problems.length) throw new ManifestError(problems);

  const zip = new JSZip();
  const date = new Date('2000-01-01T00:00:00Z'); // the same inputs give the same bytes
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, { date });
  zip.file(names.color, icons.color!, { date });
  zip.file(names.outline, icons.outline!, { date });
  const buf = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', platform: 'UNIX' });
  const outFile = opts.outFile ?? DEFAULT_OUT;
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, buf);
  return { outFile, manifest };
}

function parseArgs(argv: string[]): { envFile?: string; out?: string } {
  const out: { envFile?: string; out?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--env-file' && argv[i + 1]) out.envFile = argv[++i];
    else if (a === '--out' && argv[i + 1]) out.out = argv[++i];
    else throw new ManifestError([`unknown argument ${a} (use --env-file <file> and --out <zip>)`]);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseArgs(process.argv.slice(2));
    // The environment wins over the file, as with `node --env-file`.
    const env = args.envFile ? { ...parseEnv(readFileSync(args.envFile, 'utf8')), ...process.env } : process.env;
    const { outFile, manifest } = await packageTeamsApp({ env, outFile: args.out && path.resolve(args.out) });
    console.log(
      `${path.relative(process.cwd(), outFile)}: manifest ${manifest.manifestVersion} (schema from @microsoft/app-manifest), ` +
        `app ${manifest.id} v${manifest.version}, bot ${manifest.bots[0].botId}, validDomains ${manifest.validDomains.join(', ')}`,
    );
  } catch (err) {
    console.error(err instanceof ManifestError ? err.message : `package:teams failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  }
}
