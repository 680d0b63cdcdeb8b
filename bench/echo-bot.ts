/**
 * The floor for invoke latency: a bare botbuilder bot (CloudAdapter, no auth, restify with the same body parser as
 * cutover) whose onAdaptiveCardInvoke returns a fixed card. Whatever cutover adds above this is cutover's own cost.
 * Used by bench/invoke-latency.ts (which runs it in its own process with `--serve echo`).
 */
import type { AddressInfo } from 'node:net';
import restify from 'restify';
import {
  ActivityHandler,
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type AdaptiveCardInvokeResponse,
  type TurnContext,
} from 'botbuilder';

/** A fixed card of about the size and shape of a step card (state, facts, buttons). */
export const FIXED_CARD = {
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  body: [
    {
      type: 'Container',
      style: 'warning',
      bleed: true,
      items: [
        { type: 'TextBlock', text: 'Pilot · step 5 of 22 · batch 1', size: 'Small', isSubtle: true, wrap: true },
        { type: 'TextBlock', text: 'Stop the Connect Sync scheduler', size: 'Large', weight: 'Bolder', wrap: true },
        { type: 'TextBlock', text: '⏳ Waiting for approval', weight: 'Bolder', color: 'Warning', wrap: true, spacing: 'None' },
      ],
    },
    { type: 'TextBlock', text: 'Stop scheduled sync cycles so that no cycle runs while the no-flow rules are half-created.', wrap: true },
    {
      type: 'FactSet',
      facts: [
        { title: 'OU', value: 'OU=CloudSyncPilot,DC=contoso,DC=com' },
        { title: 'Approval', value: '1 change owner, not the requester' },
        { title: 'Asked by', value: 'Alex Wilber at 2026-11-22 09:00:00 UTC' },
        { title: 'Still needed', value: '1 more approval' },
        { title: 'Expires', value: '2026-11-23 09:00:00 UTC' },
        { title: 'Source', value: 'seed 000/001, "Stop the scheduler" (Set-ADSyncScheduler -SyncCycleEnabled $false)' },
      ],
    },
    { type: 'Input.Text', id: 'comment', placeholder: 'Comment (optional)', maxLength: 500 },
    {
      type: 'ActionSet',
      actions: [
        { type: 'Action.Execute', title: 'Approve', verb: 'step.approve', style: 'positive', data: { m: 'pilot-1a2b', s: '5', v: '3', a: '1' } },
        { type: 'Action.Execute', title: 'Reject', verb: 'step.reject', style: 'destructive', data: { m: 'pilot-1a2b', s: '5', v: '3', a: '1' } },
        { type: 'Action.Execute', title: 'Refresh', verb: 'card.refresh', data: { m: 'pilot-1a2b', s: '5', v: '3' } },
      ],
    },
  ],
};

class EchoBot extends ActivityHandler {
  constructor(private readonly updateForEveryone: boolean) {
    super();
  }

  protected async onAdaptiveCardInvoke(ctx: TurnContext): Promise<AdaptiveCardInvokeResponse> {
    // The card an invoke answers with shows only to the clicker; Microsoft's approval sample also updates the clicked
    // message, so that everyone in the conversation sees the decision.
    if (this.updateForEveryone && ctx.activity.replyToId)
      await ctx.updateActivity({ type: 'message', id: ctx.activity.replyToId, attachments: [CardFactory.adaptiveCard(FIXED_CARD)] });
    return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: FIXED_CARD };
  }
}

/**
 * `updateForEveryone`: each card action also updates the clicked card in the conversation (one Bot Connector call),
 * as a bot must for a decision everyone has to see: the floor of a click that changes a shared card.
 */
export async function startEchoBot(port = 0, opts: { updateForEveryone?: boolean } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const adapter = new CloudAdapter(
    new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: '', MicrosoftAppPassword: '', MicrosoftAppType: '', MicrosoftAppTenantId: '' } as any),
  );
  const bot = new EchoBot(opts.updateForEveryone ?? false);
  const server = restify.createServer({ name: 'echo-bot', handleUncaughtExceptions: false } as any);
  server.use(restify.plugins.bodyParser({ maxBodySize: 256 * 1024, mapParams: false, rejectUnknown: true } as any));
  server.post('/api/messages', async (req, res) => {
    await adapter.process(req as any, res as any, (context) => bot.run(context));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
