import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { IncomingMessage } from 'node:http';

/**
 * Request bodies, bounded on the bytes after decoding, per route, before anything else is done with them.
 *
 * Every route states the most it legitimately carries and which content codings it takes. The Content-Length and
 * Content-Encoding headers are judged before a byte is read (413 / 415); the bytes read are counted as they arrive
 * (413 past the limit, the rest never read); a gzip body is inflated by zlib with `maxOutputLength` set to the
 * route's limit, so a "gzip bomb" stops at the limit instead of inflating to hundreds of megabytes.
 */

export interface BodyLimit {
  /** The most bytes the decoded body may have. */
  maxBytes: number;
  /** Content codings besides identity (none: a compressed body is 415). */
  gzip: boolean;
}

/** An activity: Teams caps messages at ~100 KB; cards posted back are smaller. */
export const ACTIVITY_LIMIT: BodyLimit = { maxBytes: 256 * 1024, gzip: false };
/** A runner poll or heartbeat: a few fields ({version, executor} / {leaseId}). */
export const RUNNER_SMALL_LIMIT: BodyLimit = { maxBytes: 16 * 1024, gzip: false };
/**
 * A runner result: the largest is an identity export (ad-export-identities). Measured: ~450 bytes of JSON per object
 * with a realistic DN, UPN, mail, three proxyAddresses and display name, so 5,000 objects are ~2.3 MB and 32 MB holds
 * ~70,000 objects plus a transcript. An OU larger than that is exported in OU batches (as Cloud Sync scoping is
 * planned anyway). gzip is accepted here (the ceiling holds on the inflated bytes).
 */
export const RUNNER_RESULT_LIMIT: BodyLimit = { maxBytes: 32 * 1024 * 1024, gzip: true };
/** Anything else (report links, the sandbox control API). */
export const DEFAULT_LIMIT: BodyLimit = { maxBytes: 256 * 1024, gzip: false };

/** The limit of a route, by its path as restify registered it. */
export function limitForRoute(routePath: string | undefined): BodyLimit {
  if (routePath === '/api/messages') return ACTIVITY_LIMIT;
  if (routePath === '/api/runner/v1/jobs/:id/result') return RUNNER_RESULT_LIMIT;
  if (routePath?.startsWith('/api/runner/')) return RUNNER_SMALL_LIMIT;
  return DEFAULT_LIMIT;
}

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly code: 'PayloadTooLarge' | 'UnsupportedMediaType' | 'BadRequest',
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

const mb = (n: number) => (n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MB` : `${Math.round(n / 1024)} KB`);

function tooLarge(limit: BodyLimit): BodyError {
  return new BodyError(413, 'PayloadTooLarge', `The body is larger than this route accepts (${mb(limit.maxBytes)} after decoding).`);
}

/** The body's content coding, or a BodyError: judged from the headers alone, before any byte is read. */
export function checkBodyHeaders(req: Pick<IncomingMessage, 'headers'>, limit: BodyLimit): 'identity' | 'gzip' {
  const raw = req.headers['content-encoding'];
  const codings = (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  let coding: 'identity' | 'gzip' = 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip') && limit.gzip) coding = 'gzip';
  else if (codings.length)
    throw new BodyError(
      415,
      'UnsupportedMediaType',
      `Content-Encoding ${codings.join(', ')} is not accepted here (${limit.gzip ? 'identity or gzip' : 'identity only'}).`,
    );
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > limit.maxBytes) throw tooLarge(limit);
  return coding;
}

const gunzipAsync = promisify(gunzip) as (buf: Buffer, opts: { maxOutputLength: number }) => Promise<Buffer>;

/**
 * Reads the whole body within the limit (a JSON document is parsed whole, so it is held whole; never more than the
 * limit of it). Stops reading at the first byte past the limit. gzip is inflated with zlib's maxOutputLength.
 */
export async function readBoundedBody(req: IncomingMessage, limit: BodyLimit): Promise<Buffer> {
  const coding = checkBodyHeaders(req, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // The compressed bytes can never exceed the decoded limit by much: the same limit bounds them.
    if (size > limit.maxBytes) {
      req.pause();
      throw tooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (coding === 'identity') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit.maxBytes });
  } catch (err: any) {
    if (err?.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw tooLarge(limit);
    throw new BodyError(400, 'BadRequest', 'The gzip body could not be decoded.');
  }
}

/** Sends a BodyError and closes the connection (the rest of a refused body is not read). */
export function sendBodyError(
  res: { header(n: string, v: string): unknown; send(code: number, body: unknown): unknown },
  err: BodyError,
  shape: 'nested' | 'flat' = 'nested',
): void {
  res.header('Connection', 'close');
  res.send(err.status, shape === 'flat' ? { code: err.code, message: err.message } : { error: { code: err.code, message: err.message } });
}
