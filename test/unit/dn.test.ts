import { describe, expect, it } from 'vitest';
import { isUnder, isValidDn, makeContainerMatcher, normalizeDn, parseDn, domainOfDn } from '../../src/dn.js';

describe('DN parsing and OU membership', () => {
  it('does not count OU=PreSales as OU=Sales', () => {
    expect(isUnder('CN=Ann,OU=PreSales,DC=contoso,DC=com', 'OU=Sales,DC=contoso,DC=com')).toBe(false);
    expect(isUnder('CN=Ann,OU=Sales,DC=contoso,DC=com', 'OU=Sales,DC=contoso,DC=com')).toBe(true);
  });
  it('handles nested OUs, case and escaped commas', () => {
    expect(isUnder('CN=Bob,OU=Team A,OU=Sales,DC=Contoso,DC=COM', 'ou=sales,dc=contoso,dc=com')).toBe(true);
    expect(isUnder('CN=Smith\\, John,OU=Sales\\, EMEA,DC=contoso,DC=com', 'OU=Sales\\, EMEA,DC=contoso,DC=com')).toBe(true);
    expect(isUnder('CN=Smith\\, John,OU=Sales\\, EMEA,DC=contoso,DC=com', 'OU=Sales,DC=contoso,DC=com')).toBe(false);
    expect(parseDn('CN=Smith\\, John,DC=x')[0].value).toBe('Smith, John');
    expect(parseDn('CN=Caf\\C3\\A9,DC=x')[0].value).toBe('Café');
  });
  it('rejects injection and malformed input with a reason', () => {
    for (const bad of ['', 'OU=x,', 'nonsense', 'OU=a\nDC=b', "OU=a'; Remove-ADSyncRule", 'OU=a;DC=b', 'OU=(a)*,=x', 'OU=a\\']) {
      expect(isValidDn(bad), bad).toBe(false);
    }
    expect(isValidDn('OU=CloudSyncPilot,DC=contoso,DC=com')).toBe(true);
  });
  it('picks the deepest container for a DN', () => {
    const m = makeContainerMatcher(['OU=Sales,DC=c,DC=com', 'OU=EMEA,OU=Sales,DC=c,DC=com', 'OU=PreSales,DC=c,DC=com']);
    expect(m('CN=a,OU=EMEA,OU=Sales,DC=c,DC=com')).toBe(1);
    expect(m('CN=a,OU=Sales,DC=c,DC=com')).toBe(0);
    expect(m('CN=a,OU=PreSales,DC=c,DC=com')).toBe(2);
    expect(m('CN=a,OU=Other,DC=c,DC=com')).toBe(-1);
  });
  it('normalises and finds the domain', () => {
    expect(normalizeDn('OU=Sales , DC=Contoso,DC=com')).toBe('ou=sales,dc=contoso,dc=com');
    expect(domainOfDn('OU=x,DC=Contoso,DC=com')).toBe('contoso.com');
  });
});
