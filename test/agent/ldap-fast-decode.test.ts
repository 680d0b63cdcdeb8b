import { guidFromBytes } from '../../src/agent/executors/ldap.js';
import { describe, expect, it } from 'vitest';
import { Attribute, BerReader, BerWriter } from 'ldapts';
import { installFastAttributeDecoding } from '../../src/agent/executors/ldap-fast-decode.js';

/** Encodes an attribute the way a server sends it, then parses it with whichever Attribute#parse is installed. */
function roundTrip(type: string, values: Buffer[]): Array<string | Buffer> {
  const w = new BerWriter();
  new Attribute({ type, values }).write(w);
  const a = new Attribute();
  (a as any).parse(new BerReader(w.buffer));
  return a.values;
}

const SAMPLES: Array<[string, Buffer[]]> = [
  ['displayName', [Buffer.from('Smith, John')]],
  ['displayName', [Buffer.from('Zoë Müller — 東京')]],
  ['displayName', [Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0x42])]], // leading BOM
  ['objectGUID', [Buffer.from('00112233445566778899aabbccddeeff', 'hex')]], // not UTF-8 → Buffer
  ['proxyAddresses', [Buffer.from('SMTP:a@contoso.com'), Buffer.from('smtp:b@contoso.com')]],
  ['userCertificate;binary', [Buffer.from('hello')]],
  ['mail', [Buffer.alloc(0)]],
  ['description', [Buffer.from([0xc3, 0x28])]], // invalid UTF-8
];

describe('fast ldapts attribute decoding', () => {
  it('decodes exactly like ldapts does', () => {
    const before = SAMPLES.map(([t, v]) => roundTrip(t, v));
    installFastAttributeDecoding();
    const after = SAMPLES.map(([t, v]) => roundTrip(t, v));
    expect(after).toEqual(before);
    expect(after[2]).toEqual(['AB']);
    expect(Buffer.isBuffer(after[3][0])).toBe(true);
  });
});

describe('objectGUID formatting', () => {
  it("reads AD's byte order: the first three fields little-endian (Microsoft's documented example GUID)", () => {
    // {6F9619FF-8B86-D011-B42D-00C04FC964FF} is stored as ff 19 96 6f 86 8b 11 d0 b4 2d 00 c0 4f c9 64 ff.
    expect(guidFromBytes(Buffer.from('ff19966f868b11d0b42d00c04fc964ff', 'hex'))).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff');
    expect(() => guidFromBytes(Buffer.alloc(15))).toThrow(/16 bytes, got 15/);
  });
});
