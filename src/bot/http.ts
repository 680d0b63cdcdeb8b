import restify from 'restify';
import type { CloudAdapter } from 'botbuilder';
import type { Logger } from '../log.js';
import type { CutoverBot } from './bot.js';
import { noTracer, type Tracer } from '../telemetry/tracer.js';
import { ACTIVITY_LIMIT, BodyError, checkBodyHeaders, limitForRoute, readBoundedBody, sendBodyError } from '../runner/body.js';

/** The largest activity cutover accepts: Teams caps messages at ~100 KB; cards posted back are smaller. */
export const MAX_ACTIVITY_BYTES = ACTIVITY_LIMIT.maxBytes;

/** Activity types cutover handles; anything else is acknowledged and ignored by botbuilder. */
const KNOWN_TYPES = new Set([
  'message',
  'invoke',
  'conversationUpdate',
  'installationUpdate',
  'messageReaction',
  'event',
  'typing',
  'endOfConversation',
  'messageUpdate',
  'messageDelete',
]);

/** Why an activity is refused before it reaches the bot, or null when it may proceed. */
export function activityProblem(body: unknown): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object';
  const a = body as Record<string, any>;
  if (typeof a.type !== 'string' || !KNOWN_TYPES.has(a.type)) return 'type is missing or unknown';
  if (!a.conversation || typeof a.conversation !== 'object' || typeof a.conversation.id !== 'string' || !a.conversation.id) return 'conversation.id is missing';
  if (typeof a.serviceUrl !== 'string' || !/^https?:\/\//.test(a.serviceUrl)) return 'serviceUrl is missing or not an http(s) URL';
  // Fields that flow into the bot's replies (through the conversation reference) must have Bot Framework types, or
  // botbuilder's serializer fails the turn with an error when it answers.
  for (const k of ['id', 'channelId', 'locale', 'replyToId', 'timestamp', 'localTimestamp', 'name', 'textFormat']) {
    if (a[k] !== undefined && a[k] !== null && typeof a[k] !== 'string') return `${k} is not a string`;
  }
  for (const k of ['from', 'recipient', 'conversation']) {
    const o = a[k];
    if (o === undefined) continue;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return `${k} is not an object`;
    for (const f of ['id', 'name', 'aadObjectId', 'role', 'tenantId', 'conversationType']) {
      if (o[f] !== undefined && o[f] !== null && typeof o[f] !== 'string') return `${k}.${f} is not a string`;
    }
    if (o.isGroup !== undefined && o.isGroup !== null && typeof o.isGroup !== 'boolean') return `${k}.isGroup is not a boolean`;
  }
  // botbuilder reads every entity's type (mentions) and walks the attachments of a message.
  if (
    a.entities !== undefined &&
    a.entities !== null &&
    (!Array.isArray(a.entities) || a.entities.some((e: any) => !e || typeof e !== 'object' || typeof e.type !== 'string'))
  )
    return 'entities is not a list of typed entities';
  if (
    a.attachments !== undefined &&
    a.attachments !== null &&
    (!Array.isArray(a.attachments) || a.attachments.some((x: any) => !x || typeof x !== 'object' || Array.isArray(x)))
  )
    return 'attachments is not a list of objects';
  // botbuilder's Teams handler reads channelData.eventType (and friends) whenever channelData is present.
  if (a.channelData !== undefined && (a.channelData === null || typeof a.channelData !== 'object' || Array.isArray(a.channelData)))
    return 'channelData is not an object';
  if (a.text !== undefined && a.text !== null && typeof a.text !== 'string') return 'text is not a string';
  if (a.type === 'invoke' && typeof a.name !== 'string') return 'invoke without a name';
  if (a.value !== undefined && a.value !== null && typeof a.value !== 'object' && a.type === 'invoke') return 'invoke value is not an object';
  // Everything a turn may see or change is scoped to its Entra tenant: an activity that names none is refused, never
  // mapped to a default tenant.
  const tenant = a.conversation?.tenantId ?? a.channelData?.tenant?.id;
  if (typeof tenant !== 'string' || !tenant.trim()) return 'it has no tenant id (conversation.tenantId or channelData.tenant.id)';
  // PostgreSQL text and jsonb cannot hold U+0000: a NUL in a name or a comment would fail the turn with an error.
  if (hasNul(a)) return 'it contains a NUL character';
  return null;
}

/** True when any key or string value contains U+0000 (iterative: bodies may nest deeply). */
function hasNul(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        if (x !== null && (typeof x === 'object' || typeof x === 'string')) stack.push(x);
      }
    }
  }
  return false;
}

export interface HttpDeps {
  adapter: CloudAdapter;
  bot: CutoverBot;
  log: Logger;
  ready: () => Promise<Record<string, unknown>>;
  /** One span per inbound activity (ids, type, invoke name and verb; never its text). */
  tracer?: Tracer;
}

export function createHttpServer(d: HttpDeps): restify.Server {
  const server = restify.createServer({ name: 'cutover', handleUncaughtExceptions: false } as any);
  // Keep idle keep-alive connections longer than the load balancers in front of App Service (about 4 minutes idle),
  // so a reused connection is never closed under a request in flight (Node's default is 5 s). headersTimeout must exceed it.
  (server as any).server.keepAliveTimeout = 240_000;
  (server as any).server.headersTimeout = 241_000;
  server.use(restify.plugins.queryParser());
  // Bodies are bounded per route on the decoded bytes before any other work (authentication included): a body over
  // its route's limit is 413, a content coding the route does not take is 415 (see src/runner/body.ts). Runner routes
  // read their own body, within the same limit, once the runner's token is checked (nothing is buffered for a caller
  // without one); every other route's JSON is read and parsed here.
  server.use((req, res, next) => {
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const limit = limitForRoute((req as any).getRoute?.()?.path);
    const runnerRoute = String((req as any).getRoute?.()?.path ?? '').startsWith('/api/runner/');
    (async () => {
      if (runnerRoute) {
        checkBodyHeaders(req, limit);
        return;
      }
      const raw = await readBoundedBody(req, limit);
      const text = raw.toString('utf8');
      if (!text.trim()) {
        (req as any).body = undefined;
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      if (type && !/^application\/([a-z.+-]*\+)?json\b/i.test(type))
        throw new BodyError(415, 'UnsupportedMediaType', `Content-Type ${type.split(';')[0]} is not accepted here (application/json).`);
      try {
        (req as any).body = JSON.parse(text);
      } catch {
        throw new BodyError(400, 'BadRequest', 'The body is not valid JSON.');
      }
    })().then(
      () => next(),
      (err) => {
        if (!(err instanceof BodyError)) return next(err);
        d.log.warn({ status: err.status, route: req.url?.split('?')[0] }, 'refused a request body');
        sendBodyError(res, err, runnerRoute ? 'flat' : 'nested');
        next(false);
      },
    );
  });

  server.get('/healthz', (_req, res, next) => {
    res.send(200, { status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
    return next();
  });

  server.get('/readyz', async (_req, res) => {
    try {
      const detail = await d.ready();
      res.send(200, { status: 'ready', ...detail });
    } catch (err: any) {
      res.send(503, { status: 'not-ready', error: String(err?.message ?? err) });
    }
  });

  server.post('/api/messages', async (req, res) => {
    const problem = activityProblem(req.body);
    if (problem) {
      d.log.warn({ problem }, 'refused a malformed activity');
      res.send(400, { error: { code: 'BadRequest', message: `Malformed activity: ${problem}.` } });
      return;
    }
    // botbuilder answers 500 with the error's own message when it cannot check a token (e.g. the Bot Framework's
    // signing keys cannot be fetched) and 401 when the token is bad. Before the turn has started, any failure is a
    // failure to authenticate the caller: answer 401, and never echo internals (host names, DNS errors) to them.
    let turnStarted = false;
    let refused: number | null = null;
    const guarded = {
      header: (name: string, value: unknown) => res.header(name, value as any),
      status: (code: number) => {
        if (!turnStarted && code >= 500) refused = code;
        else res.status(code);
      },
      send: (body: unknown) => {
        if (refused === null) res.send(body as any);
      },
      end: () => {
        if (refused === null) {
          res.end();
          return;
        }
        d.log.warn({ status: refused, hasAuthorization: !!req.headers.authorization }, 'refused an activity whose token could not be validated');
        res.send(401, { error: { code: 'Unauthorized', message: 'The request could not be authenticated.' } });
      },
    };
    const a = req.body as Record<string, any>;
    const attrs = {
      'cutover.activity.id': typeof a.id === 'string' ? a.id : undefined,
      'cutover.activity.type': typeof a.type === 'string' ? a.type : undefined,
      'cutover.activity.name': typeof a.name === 'string' ? a.name : undefined,
      'cutover.activity.verb': typeof a.value?.action?.verb === 'string' ? a.value.action.verb : undefined,
      'cutover.conversation.id': typeof a.conversation?.id === 'string' ? a.conversation.id : undefined,
    };
    await (d.tracer ?? noTracer).inSpan(
      'bot.activity',
      attrs,
      async (span) => {
        try {
          await d.adapter.process(req as any, guarded as any, (context) => {
            turnStarted = true;
            return d.bot.run(context);
          });
        } catch (err) {
          span.fail(err);
          d.log.error({ err }, 'activity processing failed');
          if (!res.headersSent) res.send(500, { error: { code: 'InternalError', message: 'cutover could not process this activity.' } });
        }
        span.set({ 'http.response.status_code': refused ?? res.statusCode });
      },
      { kind: 'server' },
    );
  });

  return server;
}
