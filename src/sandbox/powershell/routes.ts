import type { Request, Response, Server } from 'restify';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log.js';
import { isLoopback } from '../control.js';
import type { SandboxTenant } from '../tenant.js';
import { SandboxCmdletBackend } from './backend.js';

/** Where a tenant's cmdlets are served, relative to the bot's URL (CUTOVER_SANDBOX_ONPREM_URL for the modules). */
export const cmdletBasePath = (tenantId: string) => `/sandbox/v1/onprem/${tenantId}`;

/**
 * POST /sandbox/v1/onprem/<tenantId>/cmdlets/<name> with `{ "parameters": { … } }`: one cmdlet call of the fake
 * ADSync / ActiveDirectory modules against that tenant's simulated Connect server and forest. Loopback callers only,
 * like the rest of the sandbox control API. Answers 200 `{ output }`, or 422 `{ error: { message, category, errorId } }`
 * for the error the cmdlet throws. GET /sandbox/v1/onprem/<tenantId>/calls: how many times each cmdlet was called.
 */
export function registerSandboxCmdletRoutes(server: Server, d: { tenants: SandboxTenant[]; clock: Clock; log: Logger }): void {
  const backends = new Map(d.tenants.map((t) => [t.tenantId, new SandboxCmdletBackend({ server: t.forest.server, clock: d.clock })]));
  server.get('/sandbox/v1/onprem/:tenantId/calls', async (req: Request, res: Response) => {
    const backend = isLoopback(req.socket?.remoteAddress) ? backends.get(String(req.params.tenantId)) : undefined;
    if (!backend) {
      res.send(404, { error: { code: 'NotFound', message: 'no such simulated tenant (or not a loopback caller)' } });
      return;
    }
    res.send(200, { calls: Object.fromEntries([...backend.calls].sort(([a], [b]) => a.localeCompare(b))) });
  });

  server.post('/sandbox/v1/onprem/:tenantId/cmdlets/:name', async (req: Request, res: Response) => {
    if (!isLoopback(req.socket?.remoteAddress)) {
      res.send(403, { error: { code: 'Forbidden', message: 'The sandbox control API answers loopback callers only.' } });
      return;
    }
    const backend = backends.get(String(req.params.tenantId));
    if (!backend) {
      res.send(404, { error: { code: 'NotFound', message: `no simulated tenant ${String(req.params.tenantId)}` } });
      return;
    }
    const body = (req.body ?? {}) as { parameters?: Record<string, unknown> };
    try {
      const out = backend.invoke(String(req.params.name), body.parameters ?? {});
      res.send('error' in out ? 422 : 200, out);
    } catch (err: any) {
      d.log.error({ err, cmdlet: req.params.name }, 'sandbox cmdlet failed');
      res.send(500, { error: { message: String(err?.message ?? err), category: 'NotSpecified', errorId: 'SandboxInternalError' } });
    }
  });
}
