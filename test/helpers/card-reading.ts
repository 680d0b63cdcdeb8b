/**
 * What a person reads on a rendered card (cards render every text as TextRuns, facts as two-column rows: see
 * src/bot/cards.ts), for assertions on labels, links and exact text.
 */

type Node = Record<string, any>;

function walk(n: unknown, visit: (n: Node) => void): void {
  if (!n || typeof n !== 'object') return;
  if (Array.isArray(n)) return n.forEach((x) => walk(x, visit));
  visit(n as Node);
  for (const v of Object.values(n)) walk(v, visit);
}

const runsOf = (block: Node): string => (block.inlines ?? []).map((r: any) => (typeof r === 'string' ? r : (r.text ?? ''))).join('');

/**
 * Every fact of a card as it reads: label and value. A fact is a row of two columns (title, value), or, when it holds a
 * token too long for a column, a bold title over its value.
 */
export function facts(card: unknown): { title: string; value: string }[] {
  const out: { title: string; value: string }[] = [];
  walk(card, (n) => {
    if (n.type === 'ColumnSet' && n.columns?.length === 2 && n.columns[0].width === 2 && n.columns[1].width === 5) {
      const [t, v] = n.columns.map((c: Node) =>
        (c.items ?? [])
          .filter((i: Node) => i.type === 'RichTextBlock')
          .map(runsOf)
          .join(' '),
      );
      out.push({ title: t, value: v });
    }
    const items = n.type === 'Container' ? (n.items ?? []) : [];
    if (
      items.length === 2 &&
      items.every((i: Node) => i.type === 'RichTextBlock') &&
      items[0].inlines?.length === 1 &&
      items[0].inlines[0].weight === 'Bolder' &&
      items[1].spacing === 'None'
    ) {
      out.push({ title: runsOf(items[0]), value: runsOf(items[1]) });
    }
  });
  return out;
}

/** The labels a card shows: fact titles, and the bold titles of values shown below the facts. */
export function labels(card: unknown): string[] {
  return facts(card).map((f) => f.title);
}

/** Every TextRun's text. */
export function runs(card: unknown): string[] {
  const out: string[] = [];
  walk(card, (n) => {
    if (n.type === 'TextRun' && typeof n.text === 'string') out.push(n.text);
  });
  return out;
}

/** Every line of text as it shows: a RichTextBlock's runs read as one line. */
export function lines(card: unknown): string[] {
  const out: string[] = [];
  walk(card, (n) => {
    if (n.type === 'RichTextBlock') out.push(runsOf(n));
  });
  return out;
}

/** Links: text runs or buttons that open a URL. */
export function links(card: unknown): { text: string; url: string }[] {
  const out: { text: string; url: string }[] = [];
  walk(card, (n) => {
    if (n.type === 'TextRun' && n.selectAction?.type === 'Action.OpenUrl') out.push({ text: n.text, url: n.selectAction.url });
    if (n.type === 'Action.OpenUrl') out.push({ text: n.title, url: n.url });
  });
  return out;
}

/** A label that is a field's path or name, not words: `a.b`, `rules[1]`, `precedence` as a camelCase key. */
export function looksLikeJsonPath(label: string): boolean {
  const l = label.trim();
  return /\[\d+\]/.test(l) || /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(l) || /^[a-z]+[A-Z][A-Za-z0-9]*$/.test(l);
}
