/** RFC 4180 quoting, and no formula injection: a cell starting with = + - @ (or a control) is prefixed with '. */
export function csvCell(v: string | null | undefined): string {
  let s = v ?? '';
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A report as CSV: `# …` comment lines, the header, one line per row. UTF-8 with a BOM (so Excel reads accented
 * names right), CRLF line ends.
 */
export function csvDocument<C extends string>(head: string[], columns: readonly C[], rows: Partial<Record<C, string | null>>[]): string {
  const lines = [...head.map(csvCell), columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c])).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
