import type { Migration } from '../runbooks/engine.js';
import { EngineError } from '../runbooks/engine.js';
import { RUNBOOKS } from '../runbooks/catalog.js';
import { defaultPolicy } from '../runbooks/policy.js';
import { validateNewMigration, type NewMigrationInput as CheckedInput } from '../runbooks/new-migration.js';
import type { Person } from '../runbooks/types.js';
import type { ChangeWindow } from '../runbooks/windows.js';
import { noticeCard, renderCard, type Card } from './cards.js';
import type { BotDeps } from './deps.js';
import { within, type RosterMember, type Turn } from './turn.js';

/**
 * Starting a migration from chat (`new migration …`) or from its form (the `form.new-migration` and
 * `migration.create` buttons): what the turn must give (who, where, the roster), then the runbooks room's checks, the
 * creation and the posting of its cards, answered within the time Teams gives.
 */

/** What the form and the one-line command give: the runbooks room's checked inputs, and the options it takes as they are. */
export type NewMigrationInput = CheckedInput & {
  windows?: ChangeWindow[];
  partial?: boolean;
  runner?: string;
  path?: string;
};
export type CreationResult = { ok: true; migration: Migration } | { ok: false; error: string };

/** The answer to a new migration whose checks are still running. */
export function creatingCard(name: string): Card {
  return noticeCard(
    `Creating "${name.slice(0, 120)}"…`,
    'Checking the owners, the domain, the OUs and the runner before anything is created. This message is updated with the result.',
    { color: 'Default' },
  );
}

/** Where a new migration's cards are, in words (its own thread in the channel, or here). */
export function homeText(m: Migration): string {
  return m.conversationId?.includes(';messageid=')
    ? `It has its own thread in this channel: its overview lists every step, and each step's card is posted there when the step is next.`
    : `Its overview is posted here, and each step's card when the step is next.`;
}

/**
 * What a new migration needs from the turn (who asks, where, the team's roster), read while the turn is alive; then
 * the checks, the creation and the posting of its cards, which need no turn and may finish after the answer.
 */
async function startCreation(
  turn: Turn,
  input: NewMigrationInput,
): Promise<{ ok: false; error: string } | { ok: true; roster: RosterMember[] | null; finish: () => Promise<CreationResult> }> {
  const { actor, tenantId } = turn;
  if (!actor.oid) return { ok: false, error: 'Your Entra object id is not in this message, so cutover cannot record who started the migration.' };
  // An own key of the catalog only: "kind=constructor" or "kind=__proto__" name Object.prototype's members, not runbooks.
  if (!Object.hasOwn(RUNBOOKS, input.kind))
    return { ok: false, error: `Unknown runbook "${input.kind.slice(0, 60)}". Known: ${Object.keys(RUNBOOKS).join(', ')}.` };
  const v = validateNewMigration(input);
  if (!v.ok) return v;
  const conversation = { ...turn.conversation };
  const roster = await turn.roster();
  return { ok: true, roster, finish: () => finishCreation(turn.d, { input, value: v.value, actor, tenantId, conversation, roster }) };
}

async function finishCreation(
  d: BotDeps,
  c: {
    input: NewMigrationInput;
    value: ReturnType<typeof validateNewMigration> & { ok: true } extends { value: infer V } ? V : never;
    actor: Person;
    tenantId: string;
    conversation: { id: string; type?: string };
    roster: RosterMember[] | null;
  },
): Promise<CreationResult> {
  const { input, value: v, actor, tenantId, roster } = c;
  // Everything that can be checked is checked before anything is created (the rules are the runbooks room's).
  const checked = await d.creation.check({
    tenantId,
    conversationId: c.conversation.id,
    requester: actor,
    kind: v.kind,
    name: v.name,
    domain: v.domain,
    ous: v.ous,
    owners: v.owners,
    ownersGroup: v.ownersGroup,
    approvals: v.approvals,
    runner: input.runner,
    roster: roster ? new Set(roster.map((x) => x.oid)) : null,
  });
  if (!checked.ok) return checked;
  try {
    const m = await d.engine.createMigration({
      name: v.name,
      kind: v.kind,
      domain: v.domain,
      tenantId,
      ous: v.ous,
      policy: {
        ...defaultPolicy(v.owners, v.approvals, d.approvalHours),
        ...(v.ownersGroup ? { ownersGroup: v.ownersGroup } : {}),
        ...(input.windows?.length ? { changeWindows: input.windows } : {}),
      },
      requester: actor,
      conversationId: c.conversation.id,
      soakDays: v.soakDays,
      partial: input.partial,
      runner: checked.runnerName,
      ...(input.path ? { options: { path: input.path } } : {}),
    });
    await rememberNames(d, roster ?? []);
    await d.notifier.postMigration(m.id, c.conversation);
    return { ok: true, migration: (await d.engine.getMigration(m.id)) ?? m }; // with its home thread
  } catch (e) {
    if (e instanceof EngineError) return { ok: false, error: e.message };
    throw e;
  }
}

/**
 * A new migration, answered within the time Teams gives (BotDeps.answerNewMigrationWithinMs): the result if it is in
 * by then; otherwise `late` answers now (a "checking" card) and `done` updates that answer with the result.
 */
export async function createWithinAnswerTime(
  turn: Turn,
  input: NewMigrationInput,
  answer: { late: () => Promise<string | undefined>; done: (r: CreationResult, roster: RosterMember[] | null) => Promise<Card> },
): Promise<CreationResult | null> {
  const { d } = turn;
  const started = await startCreation(turn, input);
  if (!started.ok) return started;
  const creating = started.finish();
  const out = await within(creating, d.answerNewMigrationWithinMs ?? 1_000);
  if (out) return out;
  const conversationId = turn.conversation.id;
  const answered = await answer.late();
  turn.background(
    creating
      .catch((err): CreationResult => {
        d.log.error({ err }, 'creating a migration failed after the request was answered');
        return { ok: false, error: `cutover could not finish creating it: ${String(err?.message ?? err).slice(0, 300)}` };
      })
      .then(async (r) => answered && d.notifier.update(conversationId, answered, await answer.done(r, started.roster)))
      .catch((err) => d.log.warn({ err }, 'could not update the answer to a new migration')),
  );
  return null;
}

/** Display names of the team's members, so cards show owners by name (authorization stays on object ids). */
async function learnNames(turn: Turn): Promise<{ name: string; oid: string }[]> {
  return rememberNames(turn.d, (await turn.roster()) ?? []);
}

async function rememberNames(d: BotDeps, members: RosterMember[]): Promise<{ name: string; oid: string }[]> {
  try {
    for (const m of members) await d.people.remember(m.oid, m.name, m.id);
  } catch {
    /* names are for display only */
  }
  return members.map(({ name, oid }) => ({ name, oid }));
}

/**
 * The new-migration form, saying before submit what it can: the tenant's verified domains, its runners, owners other
 * than the requester. A tenant cutover cannot run migrations for gets the reason instead of a form.
 */
export async function formCard(turn: Turn, values: Record<string, string>, error?: string): Promise<Card> {
  return renderForm(turn.d, turn.tenantId, turn.actor.oid, await learnNames(turn), values, error);
}

export async function renderForm(
  d: BotDeps,
  tenantId: string,
  me: string,
  everyone: { name: string; oid: string }[],
  values: Record<string, string>,
  error?: string,
): Promise<Card> {
  const problem = await d.creation.tenantProblem(tenantId);
  if (problem) return noticeCard('No migration can be started here', problem, { color: 'Attention' });
  const members = everyone.filter((m) => m.oid !== me);
  const choices = await d.creation.formChoices(tenantId);
  return renderCard('new-migration-form', {
    error: error ?? null,
    kinds: Object.values(RUNBOOKS).map((r) => ({ title: r.title, value: r.kind })),
    members,
    domains: (choices.domains ?? []).map((name) => ({ name })),
    runners: choices.runners.map((name) => ({ name })),
    runnerNote: choices.runners.length === 1 ? `Runs on the runner "${choices.runners[0]}" (this tenant's only one).` : null,
    values: {
      kind: values.kind ?? 'connect-to-cloud-sync',
      name: values.name ?? '',
      domain: values.domain ?? choices.domains?.[0] ?? '',
      ou: values.ou ?? '',
      owners: values.owners ?? '',
      ownerChoices: values.ownerChoices ?? '',
      ownersGroup: values.ownersGroup ?? '',
      approvals: values.approvals ?? '1',
      runner: values.runner ?? '',
    },
  });
}
