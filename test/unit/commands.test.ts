import { describe, expect, it } from 'vitest';
import { COMMANDS, CommandError, cleanText, parseCommand, tokenize } from '../../src/bot/commands/index.js';

/** The chat commands as the registry parses them, in-process: no app, no bot, no database. */

const OID = '0b2c5a3e-1f4d-4c6b-9a7e-2d8f1e3c4b5a';
const OID2 = '7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b';
const GROUP = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

function refusal(text: string): string {
  try {
    parseCommand(text);
  } catch (e) {
    if (e instanceof CommandError) return e.message;
    throw e;
  }
  throw new Error(`"${text}" was parsed, not refused`);
}

describe('the command registry parses every command and alias', () => {
  it.each([
    ['', { name: 'help' }],
    ['help', { name: 'help' }],
    ['HELP me', { name: 'help' }],
    ['?', { name: 'help' }],
    ['status', { name: 'status', migration: undefined }],
    ['status Pilot wave 1', { name: 'status', migration: 'Pilot wave 1' }],
    ['Status "Pilot"', { name: 'status', migration: 'Pilot' }],
    ['jobs', { name: 'jobs', migration: undefined }],
    ['jobs Pilot', { name: 'jobs', migration: 'Pilot' }],
    ['alerts', { name: 'alerts' }],
    ['pending', { name: 'pending' }],
    ['show Pilot', { name: 'show', migration: 'Pilot' }],
    ['show Pilot wave step 3', { name: 'show', migration: 'Pilot wave', step: 3 }],
    ['runners', { name: 'runners' }],
    ['runner add box-1', { name: 'runner-add', runner: 'box-1' }],
    ['runner ROTATE box.1', { name: 'runner-rotate', runner: 'box.1' }],
    ['runner revoke box_1', { name: 'runner-revoke', runner: 'box_1' }],
    ['cancel Pilot wave', { name: 'cancel', migration: 'Pilot wave' }],
    ['audit Pilot', { name: 'audit', migration: 'Pilot' }],
    ['audit runners', { name: 'audit', migration: 'runners' }],
    ['runbook connect-to-cloud-sync extra', { name: 'runbook', kind: 'connect-to-cloud-sync' }],
    ['new migration', { name: 'new-migration-form' }],
    ['New Migration', { name: 'new-migration-form' }],
    ['batch add Pilot ou="OU=B,DC=contoso,DC=com"', { name: 'batch-add', migration: 'Pilot', ou: 'OU=B,DC=contoso,DC=com' }],
    ['rollback Pilot batch=2', { name: 'rollback', migration: 'Pilot', batch: 2 }],
    ['rollback Pilot batch=ALL', { name: 'rollback', migration: 'Pilot', batch: 'all' }],
    ['connect scope remove "OU=Sales,DC=contoso,DC=com"', { name: 'connect-scope-remove', ou: 'OU=Sales,DC=contoso,DC=com' }],
    ['connect Scope Remove OU=A, DC=b', { name: 'connect-scope-remove', ou: 'OU=A, DC=b' }],
  ])('%j', (text, parsed) => {
    expect(parseCommand(text)).toEqual(parsed);
  });

  it('new migration in one line, with every setting', () => {
    expect(
      parseCommand(
        `new migration "Pilot wave" domain=Contoso.com ou="OU=A,DC=contoso,DC=com; OU=B,DC=contoso,DC=com" owners=${OID.toUpperCase()},${OID} ownersGroup=${GROUP} approvals=2 soak=14 mode=partial runner=box-1 window="Mon-Fri 22:00-06:00 Europe/Paris"`,
      ),
    ).toEqual({
      name: 'new-migration',
      title: 'Pilot wave',
      kind: 'connect-to-cloud-sync',
      domain: 'contoso.com',
      ous: ['OU=A,DC=contoso,DC=com', 'OU=B,DC=contoso,DC=com'],
      owners: [OID],
      ownersGroup: GROUP,
      approvals: 2,
      soakDays: 14,
      windows: [expect.objectContaining({ timeZone: 'Europe/Paris' })],
      partial: true,
      runner: 'box-1',
    });
    expect(parseCommand(`new migration "Old" kind=dirsync-upgrade domain=contoso.com owners=${OID} path=Parallel`)).toEqual({
      name: 'new-migration',
      title: 'Old',
      kind: 'dirsync-upgrade',
      domain: 'contoso.com',
      ous: [],
      owners: [OID],
      approvals: undefined,
      soakDays: undefined,
      windows: undefined,
      path: 'parallel',
    });
  });

  it('policy, with every setting', () => {
    expect(parseCommand(`policy Pilot approvals=3 owners=${OID2},${OID} ownersGroup=none window=none expiry=48h`)).toEqual({
      name: 'policy',
      migration: 'Pilot',
      edit: { approvals: 3, owners: [OID2, OID], ownersGroup: null, windows: [], expiryHours: 48 },
    });
    expect(parseCommand(`policy Pilot owners=none ownersGroup=${GROUP.toUpperCase()}`)).toEqual({
      name: 'policy',
      migration: 'Pilot',
      edit: { owners: [], ownersGroup: GROUP },
    });
  });

  it('what is not a command gets the help, naming what was said', () => {
    expect(parseCommand('hello there')).toEqual({ name: 'help', unknown: 'hello there' });
    expect(parseCommand('new thing')).toEqual({ name: 'help', unknown: 'new thing' });
    expect(parseCommand('batch remove Pilot')).toEqual({ name: 'help', unknown: 'batch remove Pilot' });
    expect(parseCommand('<at>cutover</at> statuses')).toEqual({ name: 'help', unknown: 'statuses' });
    expect(parseCommand(`x${'y'.repeat(200)}`)).toEqual({ name: 'help', unknown: `x${'y'.repeat(99)}` });
  });

  it('a command said wrong gets the reason', () => {
    expect(refusal('x'.repeat(4001))).toBe('That message is longer than 4000 characters.');
    expect(refusal('show')).toBe('Say "show MIGRATION" or "show MIGRATION step N".');
    expect(refusal('show Pilot step two')).toBe('"two" is not a step number: say "show MIGRATION step N".');
    expect(refusal('runner add')).toBe('Say "runner add NAME", "runner rotate NAME" or "runner revoke NAME".');
    expect(refusal('runner list x')).toBe('Say "runner add NAME", "runner rotate NAME" or "runner revoke NAME".');
    expect(refusal('runner add -bad')).toBe('A runner name is 1–63 letters, digits, dots, dashes or underscores.');
    expect(refusal('cancel')).toBe('Say "cancel MIGRATION".');
    expect(refusal('audit')).toBe('Say "audit MIGRATION" (its name or id).');
    expect(refusal('runbook')).toBe('Say "runbook KIND", e.g. "runbook connect-to-cloud-sync".');
    expect(refusal('batch add Pilot')).toBe('Say "batch add MIGRATION ou="OU=…,DC=…"".');
    expect(refusal('rollback Pilot batch=0')).toBe('Say "rollback MIGRATION batch=N" (or batch=all).');
    expect(refusal('connect scope')).toBe('Say "connect scope remove "OU=…,DC=…"".');
    expect(refusal('policy Pilot')).toMatch(/^Say what to change\. Say "policy MIGRATION/);
    expect(refusal('policy Pilot approvals=11')).toBe('approvals= is a whole number from 1 to 10.');
    expect(refusal('policy Pilot color=red')).toMatch(/^Unknown setting color=\./);
    expect(refusal('policy Pilot expiry=2d')).toBe('expiry= is a number of hours from 1 to 168, e.g. expiry=48h.');
    expect(refusal('new migration "P"')).toBe('domain= is required, e.g. domain=contoso.com');
    expect(refusal('new migration domain=contoso.com')).toBe('Give the migration a name in quotes: new migration "Pilot" domain=… ou="…" owners=…');
    expect(refusal('new migration "P" domain=contoso.com')).toBe('ou= is required, e.g. ou="OU=CloudSyncPilot,DC=contoso,DC=com"');
    expect(refusal('new migration "P" domain=contoso.com ou=OU=A')).toMatch(/^owners= or ownersGroup= is required/);
    expect(refusal('new migration "P" domain=contoso.com ou=OU=A owners=me')).toBe('"me" is not an Entra object id (a GUID).');
    expect(refusal('new migration "P" domain=a.com domain=b.com')).toBe('domain= is given twice.');
    expect(refusal(`new migration "P" domain=contoso.com owners=${OID} path=in-place`)).toBe('path= only applies to kind=dirsync-upgrade.');
  });
});

describe('the help lists every command', () => {
  it('in order, each with its usage and description', () => {
    expect(COMMANDS.map((c) => c.usage.split(' ')[0])).toEqual([
      'help',
      'new',
      'new',
      'status',
      'jobs',
      'alerts',
      'pending',
      'show',
      'runners',
      'runner',
      'audit',
      'cancel',
      'batch',
      'rollback',
      'policy',
      'connect',
      'runbook',
    ]);
    for (const c of COMMANDS) expect(c.description.length).toBeGreaterThan(10);
  });

  it('every command the help names is understood (or asks for its arguments)', () => {
    for (const c of COMMANDS) {
      const said = c.usage
        .split(/\s+/)
        .filter((w) => /^[a-z]+$/.test(w))
        .slice(0, c.usage.startsWith('connect') ? 3 : 2)
        .join(' ');
      let parsed: ReturnType<typeof parseCommand> | undefined;
      try {
        parsed = parseCommand(said);
      } catch (e) {
        expect(e, said).toBeInstanceOf(CommandError);
      }
      if (parsed) expect(parsed, said).not.toHaveProperty('unknown');
    }
  });
});

describe('text as Teams delivers it', () => {
  it('mentions and HTML are dropped, entities decoded, quotes keep values together', () => {
    expect(cleanText('<at>cutover</at>&nbsp;status <b>Pilot</b> &amp; &quot;x&quot;')).toBe('status Pilot & "x"');
    expect(tokenize(String.raw`a "b c" d=“e f” g="OU=\"Q\" T,DC=x"`)).toEqual(['a', 'b c', 'd=e f', String.raw`g=OU=\"Q\" T,DC=x`]);
  });
});
