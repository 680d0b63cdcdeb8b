import type { Logger } from '../log.js';
import type { Executor } from './executors/types.js';
import { runAction } from './run-action.js';
import { getAction } from '../actions/index.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  /** The cutover service, e.g. https://cutover.contoso.com (http:// only for loopback or with allowInsecureHttp). */
  serverUrl: string;
  token: string;
  executor: Executor;
  log: Logger;
  /** Aborting stops the agent at once. A job in flight is abandoned, not reported: its lease expires and the server marks it lost. */
  signal?: AbortSignal;
  allowInsecureHttp?: boolean;
  version?: string;
  fetch?: typeof fetch;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called after each job's result was delivered (tests and the CLI's --once use it). */
  onJobDone?: (jobId: string) => void;
  /** Read-only actions run side by side, up to this many (default 4); a change always runs alone. */
  concurrentReads?: number;
}

export interface AgentHandle {
  /** Resolves when the agent stops (signal aborted); rejects on a rejected token (401), which retrying cannot fix. */
  readonly done: Promise<void>;
}

export class AgentAuthError extends Error {
  constructor() {
    super('the cutover service rejected the runner token (wrong, revoked or expired): ask a change owner for a new one (`runner add`)');
    this.name = 'AgentAuthError';
  }
}

interface LeasedJob {
  jobId: string;
  /** The lease this job was handed out under; sent back with every heartbeat and the result. */
  leaseId: string;
  action: string;
  params: unknown;
  leaseUntil: string;
  leaseMs?: number;
}

/**
 * The runner agent's loop: long-poll for a job, run it through the allowlist while heartbeating the lease, post
 * the result with its transcript, repeat. It keeps no local job state, so a restart never re-runs anything.
 */
export function startAgent(opts: AgentOptions): AgentHandle {
  const base = checkServerUrl(opts.serverUrl, opts.allowInsecureHttp ?? false);
  return { done: runLoop(opts, base) };
}

export function checkServerUrl(serverUrl: string, allowInsecureHttp: boolean): URL {
  const url = new URL(serverUrl);
  const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (loopback || allowInsecureHttp)))
    throw new Error(`refusing ${url.protocol}// to ${url.hostname}: the runner token must travel over HTTPS (http:// only on loopback)`);
  return url;
}

async function runLoop(opts: AgentOptions, base: URL): Promise<void> {
  const log = opts.log;
  const signal = opts.signal ?? new AbortController().signal;
  const fetchImpl = opts.fetch ?? fetch;
  // Each request gets its own signal tied to the stop signal and untied when it answers: fetch's own listeners on a
  // signal that lives as long as the agent are only dropped at garbage collection, and they pile up over months.
  const f = async (url: string, init: RequestInit): Promise<Response> => {
    const own = new AbortController();
    const stop = aborted(signal);
    void stop.promise.then(() => own.abort());
    try {
      return await fetchImpl(url, { ...init, signal: own.signal });
    } finally {
      stop.dispose();
    }
  };
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' };
  const endpoint = (path: string) => new URL(path, base).toString();
  const initial = opts.backoff?.initialMs ?? 1_000;
  const max = opts.backoff?.maxMs ?? 60_000;
  let failures = 0;
  const backoff = () => sleep(Math.min(max, initial * 2 ** Math.min(failures++, 16)) * (0.8 + Math.random() * 0.4), signal);

  // Fifty cards asking for counts at once should not queue behind one another: reads run side by side, a few at a time.
  const readSlots = Math.max(1, opts.concurrentReads ?? 4);
  const reads = new Set<Promise<void>>();
  let fatal: unknown = null;

  log.info({ server: base.origin, executor: opts.executor.kind }, 'runner agent started');
  while (!signal.aborted) {
    while (reads.size >= readSlots) await Promise.race(reads);
    if (fatal) throw fatal;
    let res: Response;
    try {
      res = await f(endpoint('/api/runner/v1/poll'), {
        method: 'POST',
        headers,
        body: JSON.stringify({ version: opts.version ?? AGENT_VERSION, executor: opts.executor.kind }),
        signal,
      });
    } catch (err) {
      if (signal.aborted) break;
      log.warn({ err: String(err) }, 'poll failed; reconnecting with backoff');
      await backoff();
      continue;
    }
    if (res.status === 401) {
      await res.body?.cancel();
      log.error('runner token rejected (401); stopping');
      throw new AgentAuthError();
    }
    if (res.status === 204) {
      failures = 0;
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      log.warn({ status: res.status }, 'poll answered with an error; backing off');
      await backoff();
      continue;
    }
    failures = 0;
    let job: LeasedJob;
    try {
      job = (await res.json()) as LeasedJob;
    } catch (err) {
      if (signal.aborted) break;
      log.warn({ err: String(err) }, 'poll response unreadable');
      continue;
    }
    if (isRead(job.action)) {
      const p: Promise<void> = runJob(job)
        .catch((err) => void (fatal ??= err))
        .finally(() => reads.delete(p));
      reads.add(p);
    } else {
      // A change runs alone: the reads already running finish first, and nothing else is taken until it ends.
      await Promise.all(reads);
      await runJob(job);
    }
  }
  await Promise.all(reads);
  if (fatal) throw fatal;
  log.info('runner agent stopped');

  async function runJob(job: LeasedJob): Promise<void> {
    log.info({ jobId: job.jobId, action: job.action }, 'job received');
    const leaseMs = job.leaseMs ?? Math.max(3_000, Date.parse(job.leaseUntil) - Date.now());
    const beat = setInterval(
      () => {
        f(endpoint(`/api/runner/v1/jobs/${encodeURIComponent(job.jobId)}/heartbeat`), {
          method: 'POST',
          headers,
          body: JSON.stringify({ leaseId: job.leaseId }),
          signal,
        })
          .then(async (r) => {
            await r.body?.cancel();
            if (r.status === 409) log.warn({ jobId: job.jobId }, 'lease no longer ours (the server marked the job lost); finishing and reporting anyway');
            else if (r.status !== 200) log.warn({ jobId: job.jobId, status: r.status }, 'heartbeat not accepted');
          })
          .catch((err) => signal.aborted || log.warn({ jobId: job.jobId, err: String(err) }, 'heartbeat failed'));
      },
      Math.max(1_000, Math.floor(leaseMs / 3)),
    );
    let outcome;
    const stopped = aborted(signal);
    try {
      // Stopping does not wait for an action that may never end (a hung cmdlet): the job is abandoned.
      outcome = await Promise.race([runAction(opts.executor, job.action, job.params, { signal }), stopped.promise]);
    } finally {
      clearInterval(beat);
      stopped.dispose();
    }
    if (!outcome || signal.aborted) return; // stopped mid-job: report nothing; the lease expiry tells the server
    log.info({ jobId: job.jobId, action: job.action, ok: outcome.ok }, 'job finished');
    // Deliver the result until the server has it; a replay is harmless (results are idempotent by job id).
    let attempts = 0;
    let body = JSON.stringify({ leaseId: job.leaseId, ...outcome });
    let refusedOnce = false;
    while (!signal.aborted) {
      try {
        const r = await f(endpoint(`/api/runner/v1/jobs/${encodeURIComponent(job.jobId)}/result`), {
          method: 'POST',
          headers,
          body,
          signal,
        });
        const answer = r.status === 413 || r.status === 400 || r.status === 415 ? await r.text().catch(() => '') : (await r.body?.cancel(), '');
        if (r.status === 200) break;
        if (r.status === 401) throw new AgentAuthError();
        // The server will never take this body (too large, or refused as malformed): sending it again cannot help.
        // Report the job failed with the reason instead, once; if even that is refused, stop.
        if (r.status === 413 || r.status === 400 || r.status === 415) {
          if (refusedOnce) {
            log.error({ jobId: job.jobId, status: r.status }, 'the server refused the failure report too; giving up on this result');
            break;
          }
          refusedOnce = true;
          const why = r.status === 413 ? 'result-too-large' : 'result-refused';
          let detail = '';
          try {
            detail = String(JSON.parse(answer)?.message ?? JSON.parse(answer)?.error?.message ?? '');
          } catch {
            // Not JSON: the status alone says why.
          }
          const message = `the server refused the result (${r.status}${detail ? `: ${detail}` : ''}); it was ${Buffer.byteLength(body)} bytes`;
          log.warn(
            { jobId: job.jobId, status: r.status, bytes: Buffer.byteLength(body) },
            'result refused by the server; reporting the job failed with the reason',
          );
          body = JSON.stringify({ leaseId: job.leaseId, ok: false, error: { code: why, message }, transcript: (outcome.transcript ?? '').slice(-64 * 1024) });
          continue;
        }
        if (r.status === 409 || r.status === 404) {
          log.warn({ jobId: job.jobId, status: r.status }, 'the server no longer expects this result (lease lost); it is kept there for the human who decides');
          break;
        }
        log.warn({ jobId: job.jobId, status: r.status }, 'result not accepted; retrying');
      } catch (err) {
        if (err instanceof AgentAuthError) throw err;
        if (signal.aborted) return;
        log.warn({ jobId: job.jobId, err: String(err) }, 'result delivery failed; retrying');
      }
      await sleep(Math.min(max, initial * 2 ** Math.min(attempts++, 16)), signal);
    }
    opts.onJobDone?.(job.jobId);
  }
}

/** Resolves when the agent is stopped; dispose() drops the listener (one per job would pile up for the agent's life). */
function aborted(signal: AbortSignal): { promise: Promise<undefined>; dispose(): void } {
  let onAbort = () => {};
  const promise = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A read-only action of the allowlist; anything else (a change, or a name the allowlist refuses) runs alone. */
function isRead(action: string): boolean {
  try {
    return !getAction(action).mutation;
  } catch {
    return false;
  }
}
