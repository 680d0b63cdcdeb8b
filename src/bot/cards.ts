import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ACData from 'adaptivecards-templating';

/** Adaptive Card templates live in cards/ as JSON; this only expands them with data. */
export const CARDS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cards');

export type CardName = 'step' | 'notice' | 'help' | 'new-migration-form' | 'migration-overview' | 'status' | 'jobs' | 'alert' | 'list' | 'policy-change' | 'runner-request' | 'runner-token';

// Parsed once: a Template parses every ${…} expression when it is made (ANTLR, the costliest part of a card), and
// expand() only binds data, so one instance serves every render.
const templates = new Map<string, ACData.Template>();
for (const f of readdirSync(CARDS_DIR).filter((f) => f.endsWith('.json'))) {
  templates.set(f.replace(/\.json$/, ''), new ACData.Template(JSON.parse(readFileSync(path.join(CARDS_DIR, f), 'utf8'))));
}

export type Card = Record<string, unknown>;

export function renderCard(name: CardName, data: Record<string, unknown>): Card {
  const tpl = templates.get(name);
  if (!tpl) throw new Error(`no card template cards/${name}.json`);
  const expanded = tpl.expand({ $root: data });
  return escapeMarkup(dropNulls(expanded)) as Card;
}

/**
 * TextBlock text and Fact titles/values are Markdown in Teams, and HTML is not supported there: a `<name>`
 * placeholder or any `<…>` in data is dropped as a tag (observed in the Agents Playground, which renders cards as
 * Teams does: the help card showed `owners=[,]`). Angle brackets are written as entities, which render as themselves.
 */
function escapeMarkup(v: unknown, inFacts = false): unknown {
  if (Array.isArray(v)) return v.map((x) => escapeMarkup(x, inFacts));
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    const markdown = (k === 'text' && o.type === 'TextBlock') || (inFacts && (k === 'title' || k === 'value'));
    out[k] = markdown && typeof x === 'string' ? escapeText(x) : escapeMarkup(x, k === 'facts' && o.type === 'FactSet');
  }
  return out;
}

/**
 * Data shown in Markdown fields is text: angle brackets as entities (above), and square brackets too, so a name or a
 * comment such as `[Approve here](https://…)` shows as typed and is never a clickable link on the bot's cards (no card
 * template uses Markdown links; links are Action.OpenUrl buttons).
 */
function escapeText(s: string): string {
  return s.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\[/g, '&#91;').replace(/\]/g, '&#93;');
}

/** `$when` on a property leaves null behind; Teams rejects some null properties, so drop them. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(dropNulls);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

/**
 * A value with a long unbroken token (a Cloud Sync job id is 90 characters, a deep DN has no spaces) does not wrap in
 * a FactSet: in the Agents Playground (Teams' renderer) it widened the value column past the card, and every longer
 * value was cut off at the card's edge. Such facts go below the FactSet as their own wrapping text blocks.
 */
export function splitLongFacts<T extends { value: string }>(facts: T[], maxToken = 40): { short: T[]; long: T[] } {
  const re = new RegExp(`\\S{${maxToken},}`);
  const long = (f: T) => re.test(f.value);
  return { short: facts.filter((f) => !long(f)), long: facts.filter(long) };
}

/** A button on a notice: an Action.Execute the bot handles like any card's. */
export interface NoticeButton {
  title: string;
  verb: string;
  data: Record<string, unknown>;
}

/** A plain card for a message to one person or the channel (with buttons, when there is something to offer). */
export function noticeCard(title: string, message: string, opts: { hint?: string; color?: 'Default' | 'Attention' | 'Good' | 'Warning'; buttons?: NoticeButton[] } = {}): Card {
  return renderCard('notice', { title, message, hint: opts.hint ?? null, color: opts.color ?? 'Default', buttons: opts.buttons ?? [] });
}
