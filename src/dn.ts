/**
 * Distinguished names (RFC 4514), parsed rather than matched as text: Microsoft's own verify
 * script uses `-match $OU`, which counts OU=PreSales as OU=Sales and trips on escaped commas.
 */

export interface Rdn {
  type: string; // lower-cased attribute type, e.g. 'ou'
  value: string; // unescaped value
}

export class DnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnError';
  }
}

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/;
const MAX_DN_LENGTH = 2048;

/** Parses a DN; throws DnError with a plain reason when it is not a valid RFC 4514 string. */
export function parseDn(dn: string): Rdn[] {
  if (typeof dn !== 'string' || dn.trim() === '') throw new DnError('a DN is required');
  if (dn.length > MAX_DN_LENGTH) throw new DnError(`DN longer than ${MAX_DN_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(dn)) throw new DnError('DN contains control characters (newline, NUL…)');
  const rdns: Rdn[] = [];
  let i = 0;
  const n = dn.length;
  while (i < n) {
    // attribute type
    while (i < n && dn[i] === ' ') i++;
    let t = '';
    while (i < n && dn[i] !== '=' && dn[i] !== ',' && dn[i] !== '+') t += dn[i++];
    t = t.trim();
    if (dn[i] !== '=') throw new DnError(`"${t || dn}" is not of the form TYPE=value`);
    if (!TYPE.test(t)) throw new DnError(`"${t}" is not an attribute type`);
    i++; // '='
    // value
    let v = '';
    let trailingSpaces = 0;
    if (dn[i] === '#') throw new DnError('hex-encoded (#…) values are not accepted');
    while (i < n && dn[i] !== ',' && dn[i] !== '+') {
      const c = dn[i];
      if (c === '\\') {
        const a = dn[i + 1];
        if (a === undefined) throw new DnError('DN ends with a lone backslash');
        if (/[0-9a-fA-F]/.test(a) && /[0-9a-fA-F]/.test(dn[i + 2] ?? '')) {
          // one or more escaped UTF-8 bytes
          const bytes: number[] = [];
          while (dn[i] === '\\' && /[0-9a-fA-F]{2}/.test(dn.slice(i + 1, i + 3))) {
            bytes.push(parseInt(dn.slice(i + 1, i + 3), 16));
            i += 3;
          }
          v += Buffer.from(bytes).toString('utf8');
        } else if (' "#+,;<=>\\'.includes(a)) {
          v += a;
          i += 2;
        } else {
          throw new DnError(`invalid escape "\\${a}" in DN`);
        }
        trailingSpaces = 0;
        continue;
      }
      if (c === '"' || c === ';' || c === '<' || c === '>') throw new DnError(`unescaped "${c}" in DN value`);
      if (c === '=') throw new DnError('unescaped "=" in DN value');
      v += c;
      trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
      i++;
    }
    if (trailingSpaces) v = v.slice(0, v.length - trailingSpaces);
    v = v.replace(/^ +/, '');
    if (v === '') throw new DnError(`empty value for ${t}`);
    rdns.push({ type: t.toLowerCase(), value: v });
    if (i < n) {
      // ',' or '+' (multi-valued RDNs are flattened: order within them rarely matters here)
      i++;
      if (i >= n) throw new DnError('DN ends with a separator');
    }
  }
  return rdns;
}

/** True when dn is a syntactically valid DN. */
export function isValidDn(dn: string): boolean {
  try {
    parseDn(dn);
    return true;
  } catch {
    return false;
  }
}

function norm(r: Rdn): string {
  return `${r.type}=${r.value.toLowerCase()}`;
}

/** Canonical form for equality and storage keys: lower-cased, unescaped, re-escaped. */
export function normalizeDn(dn: string): string {
  return parseDn(dn)
    .map((r) => `${r.type}=${escapeValue(r.value.toLowerCase())}`)
    .join(',');
}

export function escapeValue(v: string): string {
  let out = v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** True when dn is the container itself or lies anywhere below it (RDN-exact, case-insensitive). */
export function isUnder(dn: string, container: string): boolean {
  const a = parseDn(dn);
  const c = parseDn(container);
  if (c.length > a.length) return false;
  const off = a.length - c.length;
  for (let k = 0; k < c.length; k++) if (norm(a[off + k]) !== norm(c[k])) return false;
  return true;
}

/** Like isUnder, but on pre-parsed containers: the hot path of counting 150,000 users by OU. */
export function makeContainerMatcher(containers: string[]): (dn: string) => number {
  const parsed = containers.map((c) => parseDn(c).map(norm));
  return (dn: string) => {
    let a: string[];
    try {
      a = parseDn(dn).map(norm);
    } catch {
      return -1;
    }
    let best = -1;
    let bestLen = -1;
    parsed.forEach((c, idx) => {
      if (c.length > a.length || c.length <= bestLen) return;
      const off = a.length - c.length;
      for (let k = 0; k < c.length; k++) if (a[off + k] !== c[k]) return;
      best = idx;
      bestLen = c.length;
    });
    return best; // index of the deepest matching container, or -1
  };
}

/** The parent DN (everything after the first RDN). */
export function parentDn(dn: string): string {
  const rdns = parseDn(dn);
  return rdns
    .slice(1)
    .map((r) => `${r.type.toUpperCase()}=${escapeValue(r.value)}`)
    .join(',');
}

/** The domain's DNS name from the DC= components, e.g. contoso.com. */
export function domainOfDn(dn: string): string {
  return parseDn(dn)
    .filter((r) => r.type === 'dc')
    .map((r) => r.value.toLowerCase())
    .join('.');
}
