/**
 * The simulated Connect server and forest behind the fake ADSync / ActiveDirectory modules, for the Pester tests: the
 * same backend the app serves at /sandbox/v1/onprem/<tenant>/cmdlets (src/sandbox/powershell/backend.ts), on its own
 * loopback port, plus a small test-only API the tests arrange and inspect the simulated server with:
 *
 *   POST /onprem/cmdlets/<name>    a cmdlet call (what CUTOVER_SANDBOX_ONPREM_URL=<url>/onprem points the modules at)
 *   POST /test/reset               a fresh contoso.com ({ largeOuUsers?: n } — default 0, the 5,000-user OU left out)
 *   POST /test/arrange             { action, ... } — see ARRANGE below
 *   GET  /test/state               what the tests assert on: scheduler, service, rules, overrides, exports, features
 *   POST /test/stdin               { action, params } → the exact JSON the agent writes to the script's stdin
 *                                  (parameters validated by the catalog, the rule plan computed by the agent)
 *   POST /test/sandbox-executor    { action, params } → what the TypeScript sandbox executor (the runner's executor on
 *                                  a machine without pwsh) answers for the same simulated server, as runAction
 *                                  reports it: { ok, result } or { ok: false, error }
 *   POST /test/check-result        { action, result } → whether a script's result passes the catalog's result schema,
 *                                  as the agent checks it: { ok: true } or { ok: false, error }
 *   GET  /test/cmdlets             the cmdlets the backend answers
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../src/clock.js';
import type { PolicyType } from '../../src/sandbox/onprem/connect-sync.js';
import { MemorySyncTarget, addForestDomain, installSyncTool, seedContosoForest, type ContosoForest } from '../../src/sandbox/onprem/index.js';
import { SandboxCmdletBackend } from '../../src/sandbox/powershell/backend.js';
import { isActionName, parseParams, parseResult } from '../../src/actions/index.js';
import { stdinPayload } from '../../src/agent/executors/powershell.js';
import { SandboxExecutor } from '../../src/sandbox/onprem/executor.js';
import { runAction } from '../../src/agent/run-action.js';

export interface SandboxServer {
  url: string;
  forest(): ContosoForest;
  reset(opts?: { largeOuUsers?: number }): void;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

export async function startSandboxServer(): Promise<SandboxServer> {
  let forest!: ContosoForest;
  let backend!: SandboxCmdletBackend;
  const reset = (opts: { largeOuUsers?: number } = {}) => {
    let f: ContosoForest | undefined;
    const target = new MemorySyncTarget((dn) => f?.ad.getByDn(dn)?.objectGUID);
    f = seedContosoForest({ target, largeOuUsers: opts.largeOuUsers ?? 0 });
    forest = f;
    backend = new SandboxCmdletBackend({ server: forest.server, clock: systemClock });
  };
  reset();

  /** Ways to put the simulated server in a state a test needs (what a person or time would do to a real one). */
  const ARRANGE: Record<string, (a: any) => unknown> = {
    // A sync cycle that has started and not ended (the scheduler's own cycle, or someone else's).
    'begin-cycle': () => forest.server.beginSyncCycle(),
    'complete-cycle': (a) => forest.server.completeSyncCycle(a.policyType ?? 'Delta', new Date()),
    'run-cycle': (a) => forest.server.runSyncCycle(a.policyType ?? 'Delta', new Date()),
    // Cycles of these policy types `everyMinutes` apart, the last one now (the scheduler's every 30 minutes): the run
    // history piles up, and runs older than PurgeRunHistoryInterval (7 days) are purged as they go.
    'run-cycles': (a) => {
      const types: PolicyType[] = a.policyTypes ?? ['Delta'];
      const every = Number(a.everyMinutes ?? 30) * 60_000;
      const now = Date.now();
      types.forEach((t, i) => forest.server.runSyncCycle(t, new Date(now - (types.length - 1 - i) * every)));
      return forest.server.runProfileResults({ limit: Number.MAX_SAFE_INTEGER }).length;
    },
    'adsync-service': (a) => forest.server.setAdsyncService(Boolean(a.running)),
    'staging-mode': (a) => forest.server.setStagingMode(Boolean(a.enabled)),
    'company-features': (a) => forest.server.setCompanyFeatures(a.features ?? {}),
    schema: (a) => Object.assign(forest.ad.schema, a.schema ?? {}),
    'exclude-container': (a) => forest.server.excludeContainer(String(a.dn)),
    'group-filtering': (a) => forest.server.setGroupFilteringGroup(a.dn ?? null),
    'move-object': (a) => forest.ad.move(forest.ad.getByDn(String(a.dn))!.objectGUID, String(a.to)),
    'add-ou': (a) => forest.ad.addOu(String(a.dn)),
    'add-group': (a) =>
      forest.ad.add({
        cn: String(a.cn),
        parentDn: String(a.parentDn),
        objectClass: 'group',
        displayName: String(a.cn),
        samAccountName: String(a.cn)
          .replace(/[^A-Za-z0-9]/g, '')
          .slice(0, 20),
        proxyAddresses: a.mail ? [`SMTP:${String(a.mail)}`] : [],
        groupScope: a.scope ?? 'global',
        securityEnabled: a.security ?? true,
        ...(a.mail ? { mail: String(a.mail) } : {}),
        ...(a.adminDescription ? { adminDescription: String(a.adminDescription) } : {}),
      }).dn,
    'delete-object': (a) => forest.ad.delete(forest.ad.getByDn(String(a.dn))!.objectGUID),
    // Another domain of the forest (what the sandbox's forest-domain fault adds), with its own users.
    'forest-domain': (a) => addForestDomain(forest.ad, String(a.domain), Number(a.users ?? 0)).baseDn,
    // A sync tool's installer leaving its MSOL_ service account (what the sandbox's sync-tool fault does).
    'sync-tool': (a) => installSyncTool(forest.ad, a.tool, new Date(), String(a.computer), Boolean(a.replace)).dn,
    'add-user': (a) =>
      forest.ad.add({
        cn: String(a.cn),
        parentDn: String(a.parentDn),
        objectClass: 'user',
        displayName: String(a.cn),
        samAccountName: String(a.sam ?? a.cn)
          .replace(/[^A-Za-z0-9]/g, '')
          .slice(0, 20),
        userPrincipalName: `${String(a.sam ?? 'new.user')}@contoso.com`,
        proxyAddresses: [],
      }).dn,
    'set-threshold': (a) => forest.server.setExportDeletionThreshold(a.threshold ?? {}),
    'set-external-id': (a) => forest.ad.addExternalDirectoryObjectId(forest.ad.getByDn(String(a.dn))!.objectGUID, String(a.value)),
  };

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, doc: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/onprem\/cmdlets\/([^/]+)$/.exec(url.pathname);
      if (m && req.method === 'POST') {
        const b = await body(req);
        const out = backend.invoke(decodeURIComponent(m[1]), b.parameters ?? {});
        return send('error' in out ? 422 : 200, out);
      }
      if (url.pathname === '/test/reset' && req.method === 'POST') {
        reset(await body(req));
        return send(200, { reset: true });
      }
      if (url.pathname === '/test/arrange' && req.method === 'POST') {
        const a = await body(req);
        const f = ARRANGE[a.action];
        if (!f) return send(400, { error: `no arrange action ${a.action}` });
        return send(200, { done: a.action, result: f(a) ?? null });
      }
      if (url.pathname === '/test/stdin' && req.method === 'POST') {
        const a = await body(req);
        if (!isActionName(a.action)) return send(400, { error: `no action ${a.action}` });
        return send(200, { stdin: JSON.stringify(stdinPayload(a.action, parseParams(a.action, a.params ?? {}))) });
      }
      if (url.pathname === '/test/sandbox-executor' && req.method === 'POST') {
        const a = await body(req);
        const { transcript: _t, ...out } = await runAction(
          new SandboxExecutor({ server: forest.server, clock: systemClock }),
          String(a.action),
          a.params ?? {},
        );
        return send(200, out);
      }
      if (url.pathname === '/test/check-result' && req.method === 'POST') {
        const a = await body(req);
        try {
          parseResult(String(a.action), a.result);
          return send(200, { ok: true });
        } catch (err) {
          return send(200, { ok: false, error: (err as Error).message });
        }
      }
      if (url.pathname === '/test/cmdlets' && req.method === 'GET') return send(200, { cmdlets: backend.cmdlets });
      if (url.pathname === '/test/state' && req.method === 'GET') {
        const s = forest.server;
        return send(200, {
          scheduler: s.getScheduler(),
          service: s.adsyncService(),
          features: s.companyFeatures(),
          customRules: s.rules().filter((r) => !r.IsStandardRule),
          fullSyncRequired: {
            ad: s.connectorOverride(s.adConnector.Identifier).FullSyncRequired,
            entra: s.connectorOverride(s.entraConnector.Identifier).FullSyncRequired,
          },
          configExports: s.configExports().map((e) => ({ folder: e.folder, files: e.files.length })),
          lastCycle: s.lastCycle,
          adConnectorId: s.adConnector.Identifier,
          pendingExports: s.pendingExports().length,
          groups: forest.ad
            .all()
            .filter((o) => o.objectClass === 'group')
            .map((g) => ({ dn: g.dn, adminDescription: g.adminDescription ?? null, externalDirectoryObjectId: g.externalDirectoryObjectId ?? null })),
          ous: forest.ous,
        });
      }
      send(404, { error: 'not found' });
    } catch (err) {
      send(500, { error: { message: String((err as Error)?.stack ?? err), category: 'NotSpecified', errorId: 'SandboxTestServerError' } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    forest: () => forest,
    reset,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
