import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, settingsSchema } from '../../src/config.js';
import { bicep, missing } from '../../scripts/engines.js';
import { runBicep } from '../../scripts/infra-build.js';
import { type BicepFile, type Value, evaluate, lint, objectKeys, parseBicep, property, unbalanced, walk } from './bicep.js';

/**
 * infra/*.bicep, two ways.
 *
 * With the Bicep compiler (.engines/bin/bicep, from scripts/install-engines.sh): main.bicep and its modules compile and
 * lint with no error and no warning, and the facts below are read from the compiled ARM JSON: every resource type and
 * API version, the web app's runtime (Node 22 LTS), the bot registration. Without the compiler that part is skipped
 * with the reason.
 *
 * Without a compiler too: the grammar (tree-sitter-bicep) parses every file; identifiers, params, functions, module
 * params and outputs are checked by test/infra/bicep.ts; main.parameters.json names only real params with allowed
 * values; the web app's settings are named as src/config.ts names them, secrets are Key Vault references, and for every
 * combination of bot and Graph authentication the settings Bicep computes pass src/config.ts's loadSettings (Bicep's own
 * expressions evaluated: simpler than evaluating the compiled ARM template expressions).
 *
 * What is NOT checked (Azure would): that each API version exists for its type in the target region, ARM evaluation
 * order and what-if.
 */

const BICEP = bicep();
if (!BICEP) process.stderr.write(`test/infra/bicep.test.ts: compiled-template checks skipped: ${missing('the Bicep compiler')}\n`);

const INFRA = fileURLToPath(new URL('../../infra/', import.meta.url));
const MODULES = path.join(INFRA, 'modules');

/** Settings App Service itself reads, not cutover (so not in src/config.ts). */
const PLATFORM_SETTINGS = new Set(['SCM_DO_BUILD_DURING_DEPLOYMENT', 'WEBSITES_PORT', 'APPLICATIONINSIGHTS_CONNECTION_STRING']);
/** Settings that carry secrets: only ever as Key Vault references. */
const SECRET_SETTINGS = new Set(['MicrosoftAppPassword', 'GRAPH_CLIENT_SECRET', 'DATABASE_URL', 'CertificatePrivateKey', 'AUDIT_HMAC_KEY']);

const cache = new Map<string, Promise<BicepFile>>();
const load = (file: string) => {
  const key = path.resolve(file);
  if (!cache.has(key)) cache.set(key, parseBicep(key));
  return cache.get(key)!;
};

const files = () => [path.join(INFRA, 'main.bicep'), ...readdirSync(MODULES).filter((f) => f.endsWith('.bicep')).map((f) => path.join(MODULES, f))];

describe('infra/*.bicep, statically', () => {
  it('there is a main.bicep and every module file is used by it', async () => {
    const main = await load(path.join(INFRA, 'main.bicep'));
    const used = [...main.modules.values()].map((m) => path.resolve(INFRA, m.path)).sort();
    expect(used).toEqual(files().slice(1).sort());
  });

  for (const file of files())
    it(`${path.relative(INFRA, file)} parses and passes the compiler-like checks`, async () => {
      const f = await load(file);
      expect(await lint(f, load)).toEqual([]);
    });

  it('the checks catch what they are meant to catch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cutover-bicep-'));
    let n = 0;
    const check = async (src: string) => {
      const file = path.join(dir, `x${n++}.bicep`);
      writeFileSync(file, src);
      const f = await parseBicep(file);
      // modules named in these snippets are the real ones in infra/modules
      return (await lint(f, (p) => load(path.join(MODULES, path.basename(p))))).join('\n');
    };
    expect(await check("resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n  name: 'x'\n  location: 'y'\n")).toMatch(/missing }|unclosed/);
    expect(await check("param a string\nparam b string\noutput o string = a\n")).toContain('param b is never used');
    expect(await check("output o string = nowhere\n")).toContain('"nowhere" is not declared');
    expect(await check("output o string = toLowerCase('A')\n")).toContain('unknown function toLowerCase()');
    expect(await check("resource kv 'Microsoft.KeyVault/vaults' = {\n  name: 'x'\n  location: 'y'\n}\n")).toContain("expected Provider/type@yyyy-mm-dd");
    expect(await check("@secure()\nparam pw string\noutput o string = 'x${pw}'\n")).toContain('exposes @secure() param pw');
    expect(
      await check("module m 'monitoring.bicep' = {\n  name: 'm'\n  params: {\n    location: 'x'\n    workspace: 'w'\n  }\n}\noutput o string = m.outputs.nope\n"),
    ).toMatch(/passes workspace, which monitoring\.bicep does not declare[\s\S]*does not pass required param workspaceName[\s\S]*has no output nope/);
  });

  it('the text-level balance check agrees with the grammar on every file', async () => {
    for (const file of files()) expect(unbalanced(await load(file))).toEqual([]);
  });
});

describe('main.parameters.json', () => {
  it('names only params of main.bicep, with allowed values, and leaves secrets to the command line', async () => {
    const main = await load(path.join(INFRA, 'main.bicep'));
    const doc = JSON.parse(readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8'));
    expect(doc.$schema).toContain('deploymentParameters.json');
    for (const [name, { value }] of Object.entries<{ value: unknown }>(doc.parameters)) {
      const p = main.params.get(name);
      expect(p, `${name} is not a param of main.bicep`).toBeDefined();
      expect(p!.secure, `${name} is @secure(): pass it on the command line or from Key Vault, not in the file`).toBe(false);
      const type = p!.type === 'int' ? 'number' : p!.type === 'bool' ? 'boolean' : p!.type;
      expect(typeof value, name).toBe(type);
      if (p!.allowed) expect(p!.allowed, name).toContain(value);
    }
    // Required params without a default are either in the file or secret (given at deploy time, see the README).
    for (const [name, p] of main.params) if (!p.hasDefault) expect(name in doc.parameters || p.secure, name).toBe(true);
    const readme = readFileSync(path.join(INFRA, 'README.md'), 'utf8');
    for (const [name, p] of main.params) if (p.secure && !p.hasDefault) expect(readme, `README explains ${name}`).toContain(name);
  });
});

describe('the web app settings (infra/modules/webapp.bicep)', () => {
  let web: BicepFile;
  let settingsNode: ReturnType<typeof property>;
  beforeAll(async () => {
    web = await load(path.join(MODULES, 'webapp.bicep'));
    const config = [...web.resources.values()].find((r) => r.type.startsWith('Microsoft.Web/sites/config@'));
    expect(config).toBeDefined();
    expect(property(config!.body, 'name')?.text).toBe("'appsettings'");
    settingsNode = property(config!.body, 'properties');
  });

  /** Every key of every object literal the settings expression uses, directly or through vars. */
  const settingNames = (): Set<string> => {
    const names = new Set<string>();
    const seen = new Set<string>();
    const visit = (n: NonNullable<typeof settingsNode>) => {
      for (const x of walk(n)) {
        if (x.type === 'object') objectKeys(x).forEach((k) => names.add(k));
        if (x.type === 'identifier' && web.vars.has(x.text) && !seen.has(x.text)) {
          seen.add(x.text);
          visit(web.vars.get(x.text)!);
        }
      }
    };
    visit(settingsNode!);
    return names;
  };

  it('are named as src/config.ts names them (or are App Service platform settings)', () => {
    const known = new Set(Object.keys(settingsSchema.shape));
    const names = settingNames();
    const unknown = [...names].filter((n) => !known.has(n) && !PLATFORM_SETTINGS.has(n));
    expect(unknown).toEqual([]);
    for (const n of ['MicrosoftAppId', 'MicrosoftAppType', 'MicrosoftAppTenantId', 'MicrosoftAppPassword', 'GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_MANAGED_IDENTITY', 'GRAPH_CLIENT_SECRET', 'DATABASE_URL', 'PUBLIC_URL', 'HOST', 'PORT', 'PLAYGROUND', 'SANDBOX'])
      expect(names, n).toContain(n);
  });

  it('traces go to Application Insights once: through cutover\'s own exporter, with App Service\'s codeless agent off', () => {
    const names = settingNames();
    expect(names).toContain('APPLICATIONINSIGHTS_CONNECTION_STRING');
    expect(names).not.toContain('ApplicationInsightsAgent_EXTENSION_VERSION'); // on, it would report every request a second time
  });

  const MODES = [
    { botAppType: 'UserAssignedMSI', graphAuth: 'ManagedIdentity' },
    { botAppType: 'UserAssignedMSI', graphAuth: 'ClientSecret' },
    { botAppType: 'SingleTenant', graphAuth: 'ManagedIdentity' },
    { botAppType: 'SingleTenant', graphAuth: 'ClientSecret' },
  ] as const;

  const TENANT = '11111111-2222-4333-8444-555555555555';
  const MI_CLIENT = '99999999-8888-4777-8666-555555555555';
  const params = (mode: (typeof MODES)[number]): Record<string, Value> => ({
    location: 'westeurope',
    nodeVersion: '22-lts',
    planName: 'p',
    siteName: 's',
    sku: 'B1',
    instances: 2,
    identityId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id',
    identityClientId: MI_CLIENT,
    botAppType: mode.botAppType,
    botAppId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    botAppPasswordSecretUri: 'https://kv-cutover.vault.azure.net/secrets/bot-app-password',
    graphTenantId: '22222222-3333-4444-8555-666666666666',
    graphAuth: mode.graphAuth,
    graphClientId: 'cccccccc-dddd-4eee-8fff-000000000000',
    graphClientSecretUri: 'https://kv-cutover.vault.azure.net/secrets/graph-client-secret',
    databaseUrlSecretUri: 'https://kv-cutover.vault.azure.net/secrets/database-url',
    auditHmacKeySecretUri: 'https://kv-cutover.vault.azure.net/secrets/audit-hmac-key',
    publicUrl: '',
    appInsightsConnectionString: 'InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
    logLevel: 'info',
    cutoverAdmins: '',
    cutoverAdminsGroup: '',
    cutoverRespondersGroup: '',
    tags: {},
  });

  /** What App Service would hand the process: Key Vault references resolved to stand-in secrets. */
  const RESOLVED: Record<string, string> = {
    'https://kv-cutover.vault.azure.net/secrets/database-url': 'postgresql://cutoveradmin:p%40ss@cutover-pg.postgres.database.azure.com:5432/cutover?sslmode=verify-full',
    'https://kv-cutover.vault.azure.net/secrets/bot-app-password': 'bot-secret',
    'https://kv-cutover.vault.azure.net/secrets/graph-client-secret': 'graph-secret',
    'https://kv-cutover.vault.azure.net/secrets/audit-hmac-key': '5f'.repeat(32),
  };

  for (const mode of MODES)
    it(`for botAppType=${mode.botAppType}, graphAuth=${mode.graphAuth}: pass src/config.ts, secrets only through Key Vault`, () => {
      const p = params(mode);
      const settings = evaluate(settingsNode!, {
        params: p,
        vars: web.vars,
        symbols: { site: { properties: { defaultHostName: 's.azurewebsites.net' } } },
        tenantId: TENANT,
      }) as Record<string, string>;

      for (const [k, v] of Object.entries(settings)) expect(typeof v, k).toBe('string');
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(settings)) {
        const ref = /^@Microsoft\.KeyVault\(SecretUri=(https:\/\/[^)]+)\)$/.exec(v);
        if (SECRET_SETTINGS.has(k)) expect(ref, `${k} must be a Key Vault reference`).not.toBeNull();
        if (ref) {
          expect(Object.values(p), `${k} refers to a secret URI the module was given`).toContain(ref[1]);
          env[k] = RESOLVED[ref[1]];
        } else env[k] = v;
      }

      const s = loadSettings(env);
      expect(s.sandbox).toBe(false);
      expect(s.PLAYGROUND).toBe(false);
      expect(s.DATABASE_URL).toMatch(/sslmode=verify-full$/);
      expect(s.HOST).toBe('0.0.0.0');
      expect(s.PORT).toBe(8080);
      expect(s.PUBLIC_URL).toBe('https://s.azurewebsites.net');
      expect(s.MicrosoftAppType).toBe(mode.botAppType);
      expect(s.MicrosoftAppTenantId).toBe(TENANT);
      expect(s.GRAPH_TENANT_ID).toBe(p.graphTenantId);
      if (mode.botAppType === 'UserAssignedMSI') {
        expect(s.MicrosoftAppId).toBe(MI_CLIENT);
        expect(s.MicrosoftAppPassword).toBeUndefined(); // botbuilder: "MicrosoftAppPassword must not be set for MSI"
      } else {
        expect(s.MicrosoftAppId).toBe(p.botAppId);
        expect(s.MicrosoftAppPassword).toBe('bot-secret');
      }
      if (mode.graphAuth === 'ManagedIdentity') {
        expect(s.GRAPH_MANAGED_IDENTITY).toBe(true);
        expect(s.GRAPH_CLIENT_ID).toBe(MI_CLIENT);
        expect(s.GRAPH_CLIENT_SECRET).toBeUndefined();
      } else {
        expect(s.GRAPH_MANAGED_IDENTITY).toBe(false);
        expect(s.GRAPH_CLIENT_ID).toBe(p.graphClientId);
        expect(s.GRAPH_CLIENT_SECRET).toBe('graph-secret');
      }
    });

  it('a custom public URL is used as PUBLIC_URL', () => {
    const settings = evaluate(settingsNode!, {
      params: { ...params(MODES[0]), publicUrl: 'https://cutover.contoso.com' },
      vars: web.vars,
      symbols: { site: { properties: { defaultHostName: 's.azurewebsites.net' } } },
      tenantId: TENANT,
    }) as Record<string, string>;
    expect(settings.PUBLIC_URL).toBe('https://cutover.contoso.com');
  });

  it('administrators and responders reach the app as src/config.ts reads them, and are not set when not given', () => {
    const settingsFor = (extra: Record<string, Value>) =>
      evaluate(settingsNode!, {
        params: { ...params(MODES[0]), ...extra },
        vars: web.vars,
        symbols: { site: { properties: { defaultHostName: 's.azurewebsites.net' } } },
        tenantId: TENANT,
      }) as Record<string, string>;
    const none = settingsFor({});
    for (const k of ['CUTOVER_ADMINS', 'CUTOVER_ADMINS_GROUP', 'CUTOVER_RESPONDERS_GROUP']) expect(none, k).not.toHaveProperty(k);
    const admins = ['0A1B2C3D-0000-4000-8000-000000000001', '0a1b2c3d-0000-4000-8000-000000000002'];
    const group = '0a1b2c3d-0000-4000-8000-0000000000aa';
    const responders = '0a1b2c3d-0000-4000-8000-0000000000bb';
    const given = settingsFor({ cutoverAdmins: admins.join(','), cutoverAdminsGroup: group, cutoverRespondersGroup: responders });
    const env = { ...given, DATABASE_URL: 'postgresql://u:p@h:5432/cutover', AUDIT_HMAC_KEY: '5f'.repeat(32) };
    const s = loadSettings(env);
    expect(s.CUTOVER_ADMINS).toEqual(admins.map((a) => a.toLowerCase()));
    expect(s.CUTOVER_ADMINS_GROUP).toBe(group);
    expect(s.CUTOVER_RESPONDERS_GROUP).toBe(responders);
  });

});

/** A resource of the compiled template, with the module (nested deployment) it is declared in. */
interface ArmResource {
  type: string;
  apiVersion: string;
  module: string;
  body: any;
}

describe.skipIf(!BICEP)('infra/main.bicep, compiled by Bicep (ARM JSON)', () => {
  let template: any;
  let resources: ArmResource[];
  beforeAll(() => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cutover-arm-')), 'main.json');
    const built = runBicep(BICEP!, ['build', path.join(INFRA, 'main.bicep'), '--outfile', out]);
    expect(built.status, built.raw).toBe(0);
    template = JSON.parse(readFileSync(out, 'utf8'));
    resources = [];
    const collect = (t: any, module: string) => {
      const list: any[] = Array.isArray(t.resources) ? t.resources : Object.values(t.resources ?? {});
      for (const r of list) {
        resources.push({ type: r.type, apiVersion: r.apiVersion, module, body: r });
        if (r.type === 'Microsoft.Resources/deployments') collect(r.properties.template, r.name);
      }
    };
    collect(template, 'main');
  });

  it('compiles and passes the linter with no error and no warning (npm run infra:build)', () => {
    const built = runBicep(BICEP!, ['lint', path.join(INFRA, 'main.bicep')]);
    expect(built.diagnostics.map((d) => `${d.file}(${d.line}) ${d.level} ${d.rule}: ${d.message}`)).toEqual([]);
    expect(built.status).toBe(0);
  });

  it('the compiler and linter are what fail a broken template (an undeclared name, an unused param, a secret output)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cutover-bicep-'));
    const file = path.join(dir, 'broken.bicep');
    writeFileSync(file, "param unused string\n@secure()\nparam pw string\noutput o string = nowhere\noutput p string = pw\n");
    const r = runBicep(BICEP!, ['build', file, '--outfile', path.join(dir, 'broken.json')]);
    expect(r.status).not.toBe(0);
    const rules = r.diagnostics.map((d) => `${d.level}:${d.rule}`);
    expect(rules).toContain('error:BCP057'); // "The name "nowhere" does not exist in the current context."
    const lint = runBicep(BICEP!, ['lint', file]);
    const lintRules = lint.diagnostics.map((d) => d.rule);
    expect(lintRules).toContain('no-unused-params');
    expect(lintRules).toContain('outputs-should-not-contain-secrets');
  });

  it('every resource type carries a stable API version, the same one for the same type everywhere', () => {
    const seen = new Map<string, string>();
    for (const r of resources) {
      expect(r.apiVersion, r.type).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (r.type === 'Microsoft.Resources/deployments') continue;
      if (seen.has(r.type)) expect(r.apiVersion, r.type).toBe(seen.get(r.type));
      seen.set(r.type, r.apiVersion);
    }
    expect([...seen.keys()].sort()).toEqual([
      'Microsoft.Authorization/roleAssignments',
      'Microsoft.BotService/botServices',
      'Microsoft.BotService/botServices/channels',
      'Microsoft.DBforPostgreSQL/flexibleServers',
      'Microsoft.DBforPostgreSQL/flexibleServers/configurations',
      'Microsoft.DBforPostgreSQL/flexibleServers/databases',
      'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules',
      'Microsoft.Insights/components',
      'Microsoft.KeyVault/vaults',
      'Microsoft.KeyVault/vaults/secrets',
      'Microsoft.ManagedIdentity/userAssignedIdentities',
      'Microsoft.OperationalInsights/workspaces',
      'Microsoft.Web/serverfarms',
      'Microsoft.Web/sites',
      'Microsoft.Web/sites/config',
    ]);
  });

  it('runs Node 22 LTS on Linux with npm start, HTTPS only, and reads Key Vault references with the user-assigned identity', () => {
    const node = template.parameters.nodeVersion;
    expect(node.defaultValue).toBe('22-lts');
    expect(node.allowedValues).toEqual(['22-lts']); // Node 20 reached its end of life in April 2026
    const webapp = resources.find((r) => r.type === 'Microsoft.Resources/deployments' && r.body.name === 'webapp')!;
    expect(webapp.body.properties.parameters.nodeVersion.value).toBe("[parameters('nodeVersion')]");
    const site = resources.find((r) => r.type === 'Microsoft.Web/sites')!.body;
    expect(site.properties.siteConfig.linuxFxVersion).toBe("[format('NODE|{0}', parameters('nodeVersion'))]");
    expect(site.kind).toMatch(/linux/);
    expect(site.properties.siteConfig.appCommandLine).toBe('npm start');
    expect(site.properties.httpsOnly).toBe(true);
    expect(site.properties.keyVaultReferenceIdentity).toBe("[parameters('identityId')]");
    expect(site.identity.type).toBe('UserAssigned');
    const pkg = JSON.parse(readFileSync(path.join(INFRA, '..', 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.engines.node).toBe('>=22');
    const params = JSON.parse(readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8'));
    expect(params.parameters.nodeVersion.value).toBe('22-lts');
  });

  it('the bot is single-tenant or a user-assigned managed identity (never multi-tenant), with the Teams channel', () => {
    expect([...template.parameters.botAppType.allowedValues].sort()).toEqual(['SingleTenant', 'UserAssignedMSI']);
    const bot = resources.find((r) => r.type === 'Microsoft.Resources/deployments' && r.body.name === 'bot')!;
    expect([...bot.body.properties.template.parameters.msaAppType.allowedValues].sort()).toEqual(['SingleTenant', 'UserAssignedMSI']);
    const channel = resources.find((r) => r.type === 'Microsoft.BotService/botServices/channels')!.body;
    expect(channel.name).toBe("[format('{0}/{1}', parameters('botName'), 'MsTeamsChannel')]");
    const service = resources.find((r) => r.type === 'Microsoft.BotService/botServices')!.body;
    expect(service.location).toBe('global');
    expect(service.properties.msaAppTenantId).toBe('[tenant().tenantId]');
  });
});
