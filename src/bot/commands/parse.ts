/** What every command's parser shares: the text as Teams delivers it, split into words, and the error that says what is wrong. */

export class CommandError extends Error {}

export const MAX_TEXT = 4000;

export const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Splits on spaces, keeping "quoted strings" (straight or curly quotes) together. Inside quotes a backslash keeps the
 * next character (as written, backslash included): a DN such as `OU=\"Quoted\" Team,DC=…` stays one value.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /(\S*?)(["“”])((?:\\.|[^"“”\\])*)(["“”])|(\S+)/gs;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (m[5] !== undefined) out.push(m[5]);
    else out.push(`${m[1]}${m[3]}`);
  }
  return out;
}

/** Text as Teams delivers it: mentions and HTML stripped, entities decoded, whitespace folded. */
export function cleanText(text: string): string {
  return text
    .replace(/<at>.*?<\/at>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `key=value` words (the last of a key wins) and the other words, in order. */
export function keyValues(args: string[]): { values: Record<string, string>; rest: string[] } {
  const values: Record<string, string> = {};
  const rest: string[] = [];
  for (const a of args) {
    const m = /^([a-z]+)=(.*)$/i.exec(a);
    if (m) values[m[1].toLowerCase()] = m[2];
    else rest.push(a);
  }
  return { values, rest };
}

/** `key=value` words, each key at most once (else CommandError), and the other words, in order. */
export function settings(args: string[], opts: { trim?: boolean } = {}): { values: Record<string, string>; rest: string[] } {
  const values: Record<string, string> = {};
  const rest: string[] = [];
  for (const a of args) {
    const m = /^([a-z]+)=(.*)$/i.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const key = m[1].toLowerCase();
    if (key in values) throw new CommandError(`${key}= is given twice.`);
    values[key] = opts.trim ? m[2].trim() : m[2];
  }
  return { values, rest };
}
