import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ACData from 'adaptivecards-templating';

/** Adaptive Card templates live in cards/ as JSON; this only expands them with data. */
export const CARDS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cards');

export type CardName =
  | 'step'
  | 'notice'
  | 'help'
  | 'new-migration-form'
  | 'migration-overview'
  | 'status'
  | 'jobs'
  | 'alert'
  | 'list'
  | 'policy-change'
  | 'runner-request'
  | 'runner-token';

// Parsed once: a Template parses every ${…} expression when it is made (ANTLR, the costliest part of a card), and
// expand() only binds data, so one instance serves every render.
const templates = new Map<string, ACData.Template>();
for (const f of readdirSync(CARDS_DIR).filter((f) => f.endsWith('.json'))) {
  templates.set(f.replace(/\.json$/, ''), new ACData.Template(JSON.parse(readFileSync(path.join(CARDS_DIR, f), 'utf8'))));
}

export type Card = Record<string, unknown>;

/**
 * The last card each template rendered, by its data. A click renders the clicker's card and the channel's card from one
 * snapshot, and Teams asks for every owner's view of a card it updates: most of these are the same card, rendered once.
 * Cards are never changed once rendered (they are only serialized), so the same object can be handed out again.
 */
const lastRendered = new Map<CardName, { data: string; card: Card }>();

export function renderCard(name: CardName, data: Record<string, unknown>): Card {
  const tpl = templates.get(name);
  if (!tpl) throw new Error(`no card template cards/${name}.json`);
  const key = JSON.stringify(data);
  const last = lastRendered.get(name);
  if (last?.data === key) return last.card;
  const expanded = tpl.expand({ $root: data });
  const card = plainText(dropNulls(expanded)) as Card;
  lastRendered.set(name, { data: key, card });
  return card;
}

/**
 * Every text on a card is shown exactly as it is: a DN keeps its backslashes (`OU=Sales\, EMEA`), a name such as
 * `[Approve](https://…)` stays text and never becomes a link, `<migration>` is not taken for a tag, and no HTML entity
 * ever appears. Teams renders TextBlock text and Fact titles and values as Markdown (where `\,` loses its backslash,
 * `<…>` is dropped as a tag and `&lt;` shows as typed inside a code span), and escaping Markdown is honoured unevenly
 * across Teams clients. A TextRun is not Markdown in any client (Adaptive Cards 1.2), so after expansion each TextBlock
 * becomes a RichTextBlock with one TextRun of the same style, and each FactSet becomes rows of two columns (title,
 * value) of TextRuns, aligned as a FactSet's are. Templates stay written with TextBlocks and FactSets; links are
 * Action.OpenUrl buttons or TextRuns with an Action.OpenUrl selectAction, never Markdown.
 */
export function plainText(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plainText).filter((x) => x !== null);
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (o.type === 'TextBlock') return textBlock(o);
  if (o.type === 'FactSet') return factRows(o);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = plainText(x);
  return out;
}

/** Element properties a RichTextBlock (or the Container standing for a FactSet) keeps. */
const ELEMENT_PROPS = ['id', 'isVisible', 'spacing', 'separator', 'height', 'requires', 'fallback'] as const;
/** TextBlock styles a TextRun carries. */
const RUN_PROPS = ['size', 'weight', 'color', 'isSubtle', 'fontType'] as const;

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function textRun(text: unknown, style: Record<string, unknown>): Record<string, unknown> {
  return { type: 'TextRun', text: String(text ?? ''), ...style };
}

function textBlock(o: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'RichTextBlock',
    ...pick(o, ELEMENT_PROPS),
    ...(o.horizontalAlignment ? { horizontalAlignment: o.horizontalAlignment } : {}),
    inlines: [textRun(o.text, pick(o, RUN_PROPS))],
  };
}

/**
 * A FactSet as rows of two weighted columns, so titles and values line up down the card as a FactSet's do. A fact whose
 * title or value holds a token too long to wrap in its column (a DN, a command line, a job id) is stacked instead: its
 * title, then its value across the card (a long unbroken token runs past a narrow column's edge in Teams' renderer).
 */
function factRows(o: Record<string, unknown>): Record<string, unknown> | null {
  const facts = (Array.isArray(o.facts) ? o.facts : []) as { title?: unknown; value?: unknown }[];
  if (!facts.length) return null;
  const rows = facts.map((f, i) => {
    const spacing = i === 0 ? 'None' : 'Small';
    if (/\S{16,}/.test(String(f.title ?? '')) || /\S{45,}/.test(String(f.value ?? ''))) {
      return {
        type: 'Container',
        spacing,
        items: [
          { type: 'RichTextBlock', inlines: [textRun(f.title, { weight: 'Bolder' })] },
          { type: 'RichTextBlock', spacing: 'None', inlines: [textRun(f.value, {})] },
        ],
      };
    }
    return {
      type: 'ColumnSet',
      spacing,
      columns: [
        { type: 'Column', width: 2, items: [{ type: 'RichTextBlock', inlines: [textRun(f.title, { weight: 'Bolder' })] }] },
        { type: 'Column', width: 5, items: [{ type: 'RichTextBlock', inlines: [textRun(f.value, {})] }] },
      ],
    };
  });
  return { type: 'Container', ...pick(o, ELEMENT_PROPS), items: rows };
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
export function noticeCard(
  title: string,
  message: string,
  opts: { hint?: string; color?: 'Default' | 'Attention' | 'Good' | 'Warning'; buttons?: NoticeButton[] } = {},
): Card {
  return renderCard('notice', { title, message, hint: opts.hint ?? null, color: opts.color ?? 'Default', buttons: opts.buttons ?? [] });
}
