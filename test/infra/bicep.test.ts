import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, settingsSchema } from '../../src/config.js';
import { type BicepFile, type Value, evaluate, lint, objectKeys, parseBicep, property, unbalanced, walk } from './bicep.js';

/**
 * What is checked here, without a Bicep compiler: the grammar (tree-sitter-bicep) parses every file with no error;
 * brackets balance; every identifier is declared and every param and var is used; every function is a Bicep
 * function; every resource type has an API version, a name, a location (top-level) or a parent (child); module
 * paths exist, the params passed are the module's params (required ones all passed) and the outputs read exist;
 * no @secure() param reaches an output; main.parameters.json names only real params with allowed values; the web
 * app's settings are named as src/config.ts names them, secrets are Key Vault references, and for every
 * combination of bot and Graph authentication the settings Bicep computes pass src/config.ts's loadSettings.
 *
 * What is NOT checked (a compiler or Azure would): property names and value types against the resource providers'
 * schemas, that each API version exists for its type, Bicep's linter rules, ARM evaluation order and what-if.
 */

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

  it('every resource type carries a stable API version, the same one for the same type everywhere', async () => {
    const seen = new Map<string, string>();
    for (const file of files()) {
      const f = await load(file);
      for (const r of f.resources.values()) {
        const [type, version] = r.type.split('@');
        expect(version, r.type).not.toMatch(/preview/);
        if (seen.has(type)) expect(version, type).toBe(seen.get(type));
        seen.set(type, version);
      }
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
    nodeVersion: '20-lts',
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

  it('runs Node 20 on Linux with npm start, HTTPS only, and reads Key Vault references with the user-assigned identity', async () => {
    const main = await load(path.join(INFRA, 'main.bicep'));
    const node = main.params.get('nodeVersion')!;
    expect(node.decl.text).toMatch(/param nodeVersion string = '20-lts'$/);
    expect(node.allowed).toContain('20-lts');
    const site = [...web.resources.values()].find((r) => r.type.startsWith('Microsoft.Web/sites@'))!;
    const props = property(site.body, 'properties')!;
    const cfg = property(props, 'siteConfig')!;
    expect(property(cfg, 'linuxFxVersion')?.text).toBe("'NODE|${nodeVersion}'");
    expect(property(cfg, 'appCommandLine')?.text).toBe("'npm start'");
    expect(property(props, 'httpsOnly')?.text).toBe('true');
    expect(property(props, 'keyVaultReferenceIdentity')?.text).toBe('identityId');
    expect(property(property(site.body, 'identity'), 'type')?.text).toBe("'UserAssigned'");
    const pkg = JSON.parse(readFileSync(path.join(INFRA, '..', 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBeDefined();
  });
});

describe('the bot registration (infra/modules/bot.bicep)', () => {
  it('is single-tenant or a user-assigned managed identity (never multi-tenant), with the Teams channel', async () => {
    const bot = await load(path.join(MODULES, 'bot.bicep'));
    const types = bot.params.get('msaAppType')!.allowed;
    expect(types?.sort()).toEqual(['SingleTenant', 'UserAssignedMSI']);
    const main = await load(path.join(INFRA, 'main.bicep'));
    expect(main.params.get('botAppType')!.allowed?.sort()).toEqual(['SingleTenant', 'UserAssignedMSI']);
    const channel = [...bot.resources.values()].find((r) => r.type.startsWith('Microsoft.BotService/botServices/channels@'))!;
    expect(property(channel.body, 'name')?.text).toBe("'MsTeamsChannel'");
    const service = [...bot.resources.values()].find((r) => r.type.startsWith('Microsoft.BotService/botServices@'))!;
    expect(property(service.body, 'location')?.text).toBe("'global'");
    expect(property(property(service.body, 'properties'), 'msaAppTenantId')?.text).toBe('tenant().tenantId');
  });
});
