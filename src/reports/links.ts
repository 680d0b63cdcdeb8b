import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Server } from 'restify';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Sql } from '../store/db.js';
import { kvGet } from '../store/kv.js';

/** What a report link can point at: GET /api/reports/<kind>/<id>.<format>. */
export type ReportKind = 'alerts' | 'assessments';
export type ReportFormat = 'csv' | 'json';

/** The secret's key predates assessments (alert reports came first): kept so links survive upgrades. */
const SECRET_KEY = 'monitor:report-link-secret';
export const REPORT_LINK_DAYS = 14;

/**
 * Report links are capability URLs: the report's kind and id, an expiry and an HMAC over them with a secret kept
 * in the store (created once, shared by every instance, kept across restarts). Reports hold identity data, so the
 * routes serve nobody without a valid, unexpired signature; the card's Refresh gives a fresh link. One signature
 * covers every format of the same report.
 */
export class ReportLinks {
  private constructor(private readonly secret: Buffer) {}

  /** Reads (or, the first time, creates) the secret in the store's kv table, through the handle the app gives it. */
  static async open(db: Sql, clock: Clock): Promise<ReportLinks> {
    const read = () => kvGet(db, SECRET_KEY);
    let s = await read();
    if (!s) {
      await db.query('INSERT INTO kv (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING', [
        SECRET_KEY,
        JSON.stringify(randomBytes(32).toString('base64url')),
        clock.now().toISOString(),
      ]);
      s = await read();
    }
    if (!s) throw new Error('could not create the report link secret');
    return new ReportLinks(Buffer.from(s, 'base64url'));
  }

  static path(kind: ReportKind, id: string, format: ReportFormat = 'csv'): string {
    return `/api/reports/${kind}/${encodeURIComponent(id)}.${format}`;
  }

  #sig(kind: ReportKind, id: string, exp: number): string {
    // Alert links signed before other kinds existed carry no kind; ids of one kind never contain '/'.
    const subject = kind === 'alerts' ? id : `${kind}/${id}`;
    return createHmac('sha256', this.secret).update(`${subject}\n${exp}`).digest('base64url');
  }

  url(baseUrl: string, kind: ReportKind, id: string, now: Date, format: ReportFormat = 'csv'): string {
    // Expiry rounded up to the next day: the link in a card stays the same within a day.
    const exp = Math.ceil((now.getTime() + REPORT_LINK_DAYS * 86_400_000) / 86_400_000) * 86_400;
    return `${baseUrl.replace(/\/+$/, '')}${ReportLinks.path(kind, id, format)}?exp=${exp}&sig=${this.#sig(kind, id, exp)}`;
  }

  verify(kind: ReportKind, id: string, exp: unknown, sig: unknown, now: Date): 'ok' | 'expired' | 'invalid' {
    if (typeof exp !== 'string' || !/^\d{1,12}$/.test(exp) || typeof sig !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return 'invalid';
    const want = Buffer.from(this.#sig(kind, id, Number(exp)));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'invalid';
    return Number(exp) * 1000 < now.getTime() ? 'expired' : 'ok';
  }
}

const CONTENT_TYPE: Record<ReportFormat, string> = { csv: 'text/csv; charset=utf-8', json: 'application/json; charset=utf-8' };

/**
 * GET /api/reports/<kind>/:file — a stored report behind a signed, expiring link (ReportLinks). Read-only: a
 * refused request (bad name 404, bad or expired signature 403, nothing stored 404) reads nothing else and writes
 * nothing. `render` gives the body per format it serves; the file name is `cutover-<id>.<format>`.
 */
export function registerReportRoute<T>(
  server: Server,
  d: {
    kind: ReportKind;
    links: ReportLinks;
    clock: Clock;
    log: Logger;
    /** The id part of the file name, anchored; anything else is 404 before the signature is looked at. */
    id: RegExp;
    load(id: string): Promise<T | null>;
    render: Partial<Record<ReportFormat, (report: T) => string>>;
    messages: { expired: string; missing: string };
  },
): void {
  const formats = Object.keys(d.render) as ReportFormat[];
  const file = new RegExp(`^(${d.id.source})\\.(${formats.join('|')})$`);
  const refuse = (res: Response, status: number, message: string) => {
    res.header('cache-control', 'no-store');
    res.send(status, { error: { code: status === 404 ? 'NotFound' : 'Forbidden', message } });
  };

  server.get(`/api/reports/${d.kind}/:file`, async (req: Request, res: Response) => {
    try {
      const m = file.exec(String(req.params.file ?? ''));
      if (!m) return refuse(res, 404, 'No such report.');
      const [, id, format] = m as unknown as [string, string, ReportFormat];
      const query = (req.query ?? {}) as Record<string, unknown>;
      const verdict = d.links.verify(d.kind, id, query.exp, query.sig, d.clock.now());
      if (verdict === 'expired') return refuse(res, 403, d.messages.expired);
      if (verdict !== 'ok') return refuse(res, 403, 'This report link is not valid.');
      const report = await d.load(id);
      if (!report) return refuse(res, 404, d.messages.missing);
      const body = d.render[format]!(report);
      res.writeHead(200, {
        'content-type': CONTENT_TYPE[format],
        'content-disposition': `attachment; filename="cutover-${id}.${format}"`,
        'content-length': String(Buffer.byteLength(body)),
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(body);
    } catch (err) {
      d.log.error({ err, kind: d.kind }, 'report route failed');
      if (!res.headersSent) res.send(500, { error: { code: 'InternalError', message: 'The report could not be produced.' } });
    }
  });
}
