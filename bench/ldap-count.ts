/**
 * LDAP benchmark: the ldap executor's paged count and identity export of the users in one OU, against `ldapsearch`
 * doing the same paged searches (same filters, attributes and page size) in the same run. Target: ≤ 1.2× ldapsearch.
 *
 *   npm run bench:ldap                                   # Samba AD DC, 10,000 users + slapd, 150,000 users
 *   npm run bench:ldap -- --samba-users 5000 --no-slapd
 *
 * Samba's bulk load is slow (it grows with the directory), so the first run builds a snapshot under
 * /tmp/cutover-samba and later runs restore it in about a second. Needs root and the Debian packages listed in
 * test/helpers/samba.ts and test/helpers/slapd.ts. Samba owns 127.0.0.1:389: do not run alongside the Samba tests.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { LdapExecutor, FILTERS } from '../src/agent/executors/ldap.js';
import { runAction } from '../src/agent/run-action.js';
import { FIXTURE, sambaUnavailableReason, startSambaDc } from '../test/helpers/samba.js';
import { slapdUnavailableReason, startSlapd } from '../test/helpers/slapd.js';

const { values } = parseArgs({
  options: {
    'samba-users': { type: 'string', default: '10000' },
    'slapd-users': { type: 'string', default: '150000' },
    'no-samba': { type: 'boolean', default: false },
    'no-slapd': { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
  },
});
const RUNS = Number(values.runs);
const PAGE = 1000;
const EXPORT_ATTRIBUTES = ['objectClass', 'objectGUID', 'mS-DS-ConsistencyGuid', 'userPrincipalName', 'mail', 'proxyAddresses', 'displayName'];

interface Target {
  name: string;
  url: string;
  bindDn: string;
  password: string;
  ou: string;
  users: number;
}

/** ldapsearch with the paged-results control; returns the number of entries it printed. */
function ldapsearch(t: Target, filter: string, attributes: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ldapsearch',
      ['-LLL', '-x', '-H', t.url, '-D', t.bindDn, '-w', t.password, '-E', `pr=${PAGE}/noprompt`, '-b', t.ou, filter, ...attributes],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let n = 0;
    let carry = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const text = carry + d;
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('dn:')) n++;
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`ldapsearch exited ${code}: ${err}`))));
  });
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function bench(t: Target) {
  const exec = new LdapExecutor({ url: t.url, bindDn: t.bindDn, bindPassword: t.password, allowPlainLdap: true, pageSize: PAGE });
  const nodeCount = async () => {
    const r: any = await runAction(exec, 'ad-count', { ou: t.ou });
    if (!r.ok) throw new Error(r.error.message);
    return r.result.users as number;
  };
  const nodeExport = async () => {
    const r: any = await runAction(exec, 'ad-export-identities', { ou: t.ou, classes: ['user'] });
    if (!r.ok) throw new Error(r.error.message);
    return r.result.count as number;
  };
  // ad-count is three paged searches (users, groups, contacts); ldapsearch does the same three.
  const cliCount = async () => {
    const users = await ldapsearch(t, FILTERS.user, ['1.1']);
    await ldapsearch(t, FILTERS.group, ['1.1']);
    await ldapsearch(t, FILTERS.contact, ['1.1']);
    return users;
  };
  const cliExport = () => ldapsearch(t, FILTERS.user, EXPORT_ATTRIBUTES);

  await nodeCount(); // warm the server's caches for both sides
  await cliCount();
  const rows: Record<string, { node: number[]; cli: number[]; n: number }> = { count: { node: [], cli: [], n: 0 }, export: { node: [], cli: [], n: 0 } };
  let peakRss = 0;
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order so neither side always runs on a warmer server.
    const pairs: Array<[keyof typeof rows, () => Promise<number>, () => Promise<number>]> = [
      ['count', nodeCount, cliCount],
      ['export', nodeExport, cliExport],
    ];
    for (const [k, node, cli] of pairs) {
      const first = i % 2 === 0;
      const a = await time(first ? node : cli);
      const b = await time(first ? cli : node);
      const [n, c] = first ? [a, b] : [b, a];
      if (n.value !== c.value || n.value !== t.users) throw new Error(`${t.name} ${k}: node saw ${n.value}, ldapsearch ${c.value}, expected ${t.users}`);
      rows[k].node.push(n.ms);
      rows[k].cli.push(c.ms);
      rows[k].n = n.value;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  const out = Object.entries(rows).map(([k, r]) => ({
    target: t.name,
    op: k,
    users: r.n,
    nodeMs: Math.round(median(r.node)),
    ldapsearchMs: Math.round(median(r.cli)),
    ratio: +(median(r.node) / median(r.cli)).toFixed(2),
  }));
  return { rows: out, rssMb: mb(peakRss), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

const results: unknown[] = [];
if (!values['no-samba']) {
  const why = sambaUnavailableReason();
  if (why) console.log(`Samba: skipped (${why})`);
  else {
    const users = Number(values['samba-users']);
    const dc = await startSambaDc({ bulkUsers: users, log: (l) => console.log(`[samba] ${l}`) });
    try {
      const r = await bench({ name: `samba-${users}`, url: dc.url, bindDn: dc.bindDn, password: dc.password, ou: FIXTURE.bulkOu, users });
      console.table(r.rows);
      console.log(`agent RSS after Samba runs: ${r.rssMb} MB (process peak ${r.maxRssMb} MB)`);
      results.push(r);
    } finally {
      dc.stop();
    }
  }
}
if (!values['no-slapd']) {
  const why = slapdUnavailableReason();
  if (why) console.log(`slapd: skipped (${why})`);
  else {
    const users = Number(values['slapd-users']);
    const t0 = performance.now();
    const s = await startSlapd({ users });
    console.log(`[slapd] ${users} users loaded and serving in ${Math.round(performance.now() - t0)} ms`);
    try {
      const r = await bench({ name: `slapd-${users}`, url: s.url, bindDn: s.bindDn, password: s.password, ou: s.bulkOu, users });
      console.table(r.rows);
      console.log(`agent RSS after slapd runs: ${r.rssMb} MB (process peak ${r.maxRssMb} MB)`);
      results.push(r);
    } finally {
      s.stop();
    }
  }
}
console.log(JSON.stringify({ bench: 'ldap-count', pageSize: PAGE, runs: RUNS, results }));
