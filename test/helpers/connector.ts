import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Bot Connector on loopback that records what the bot sends (the serviceUrl of test activities):
 * POST /v3/conversations/{id}/activities[/{replyToId}] and PUT …/activities/{id}, a new post in a channel
 * (POST /v3/conversations: the new conversation is `<channel>;messageid=<its activity id>`, as Teams names a channel
 * thread), plus the paged members call the new-migration form makes.
 */
export interface Recorded {
  method: string;
  conversationId: string;
  activityId: string;
  activity: any;
  /** A new top-level post in a channel (POST /v3/conversations), not a reply in an existing thread. */
  topLevel?: boolean;
}

export class RecordingConnector {
  readonly sent: Recorded[] = [];
  /** Latest content of every activity the bot posted, by id (updates replace it). */
  readonly messages = new Map<string, any>();
  #server = http.createServer((req, res) => this.#handle(req, res));
  #next = 1;
  #listeners: (() => void)[] = [];
  members: { id: string; name: string; aadObjectId: string }[] = [];
  /** Delay every answer by this long (a slow Bot Connector: long turns). */
  delayMs = 0;
  /** Answer the next N sends with this status (e.g. 429 storms). */
  failNext: { status: number; count: number; retryAfter?: number } | null = null;
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections?.();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  /** Resolves once pred() holds, re-checked on every recorded send; rejects after timeoutMs. */
  waitFor<T>(pred: () => T | undefined | false, timeoutMs = 45_000, what = 'a connector send'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred();
        if (v) {
          clearTimeout(t);
          this.#listeners = this.#listeners.filter((l) => l !== check);
          resolve(v);
          return true;
        }
        return false;
      };
      const t = setTimeout(() => {
        this.#listeners = this.#listeners.filter((l) => l !== check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      if (!check()) this.#listeners.push(check);
    });
  }

  cards(): { id: string; card: any }[] {
    return [...this.messages.entries()].flatMap(([id, a]) =>
      (a.attachments ?? []).filter((x: any) => x.contentType === 'application/vnd.microsoft.card.adaptive').map((x: any) => ({ id, card: x.content })),
    );
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => (this.delayMs ? setTimeout(() => this.#answer(req, res, body), this.delayMs) : this.#answer(req, res, body)));
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    {
      const url = req.url ?? '';
      if (req.method === 'GET' && /\/v3\/conversations\/[^/]+\/pagedmembers/.test(url)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ members: this.members }));
        return;
      }
      if (req.method === 'POST' && /^\/v3\/conversations\/?(\?|$)/.test(url)) {
        // A new post in a channel: Teams answers with the thread's conversation id, whose messageid is the post's id.
        const params = body ? JSON.parse(body) : {};
        const channel = params.channelData?.channel?.id;
        if (!params.isGroup || !channel || !params.activity) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'BadArgument', message: 'a channel post needs isGroup, channelData.channel.id and an activity' } }));
          return;
        }
        const activityId = String(this.#next++);
        const conversationId = `${channel};messageid=${activityId}`;
        this.sent.push({ method: 'POST', conversationId, activityId, activity: params.activity, topLevel: true });
        this.messages.set(activityId, params.activity);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: conversationId, activityId }));
        for (const l of [...this.#listeners]) l();
        return;
      }
      const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(url);
      if (!m) {
        res.writeHead(404);
        res.end();
        return;
      }
      if (this.failNext && this.failNext.count > 0) {
        this.failNext.count--;
        res.writeHead(this.failNext.status, this.failNext.retryAfter !== undefined ? { 'retry-after': String(this.failNext.retryAfter) } : {});
        res.end(JSON.stringify({ error: { code: 'Throttled', message: 'slow down' } }));
        return;
      }
      const conversationId = decodeURIComponent(m[1]);
      const activity = body ? JSON.parse(body) : {};
      let activityId: string;
      if (req.method === 'PUT' && m[2]) activityId = decodeURIComponent(m[2]);
      else activityId = `act-${this.#next++}`;
      this.sent.push({ method: req.method!, conversationId, activityId, activity });
      this.messages.set(activityId, activity);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: activityId }));
      for (const l of [...this.#listeners]) l();
    }
  }
}
