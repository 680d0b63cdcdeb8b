import type { Request, Response, Server } from 'restify';
import type { Logger } from '../log.js';
import type { Monitor } from '../monitor/monitor.js';
import type { RunbookEngine } from '../runbooks/engine.js';
import { FaultError, faultSchema, type SandboxTenant } from './tenant.js';

/** True for 127.0.0.0/8 and ::1 (also IPv4-mapped): the sandbox control API answers nobody else. */
export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.replace(/^::ffff:/, '');
  return a === '::1' || /^127\./.test(a);
}

/** Sandbox control for tests and demos: faults, one monitor cycle now, the simulated tenant's state. */
export function registerSandboxRoutes(server: Server, d: { tenant: SandboxTenant; monitor: Monitor; engine: RunbookEngine; log: Logger }): void {
  const guard = (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    if (!isLoopback(req.socket?.remoteAddress)) {
      res.send(403, { error: { code: 'Forbidden', message: 'The sandbox control API answers loopback callers only.' } });
      return;
    }
    try {
      await handler(req, res);
    } catch (err: any) {
      d.log.error({ err }, 'sandbox control failed');
      res.send(500, { error: { code: 'InternalError', message: String(err?.message ?? err) } });
    }
  };

  server.post(
    '/sandbox/v1/faults',
    guard(async (req, res) => {
      const parsed = faultSchema.safeParse(req.body);
      if (!parsed.success) {
        res.send(400, { error: { code: 'BadRequest', message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') } });
        return;
      }
      try {
        res.send(200, { applied: d.tenant.injectFault(parsed.data) });
      } catch (e) {
        if (e instanceof FaultError) res.send(409, { error: { code: 'Conflict', message: e.message } });
        else throw e;
      }
    }),
  );

  server.post(
    '/sandbox/v1/monitor/run',
    guard(async (_req, res) => {
      const report = await d.monitor.runCycle();
      res.send(200, report);
    }),
  );

  server.post(
    '/sandbox/v1/tick',
    guard(async (_req, res) => {
      res.send(200, d.tenant.tick());
    }),
  );

  server.get(
    '/sandbox/v1/state',
    guard(async (_req, res) => {
      res.send(200, d.tenant.state());
    }),
  );
}
