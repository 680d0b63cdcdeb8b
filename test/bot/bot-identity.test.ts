import { describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config.js';

/** Issue 16, item 2: outside the sandbox the process never runs as an anonymous bot. */
describe('a bot identity outside sandbox mode', () => {
  const production = { GRAPH_TENANT_ID: '11111111-2222-4333-8444-555555555555', GRAPH_CLIENT_ID: 'graph-app', GRAPH_CLIENT_SECRET: 'graph-secret' };
  const refusal = (env: Record<string, string>) => {
    try {
      loadSettings(env);
    } catch (e) {
      expect(e).toBeInstanceOf(SettingsError);
      return (e as Error).message;
    }
    return null;
  };

  it('with a Graph tenant and secret but no MicrosoftAppId, start is refused with one line naming it', () => {
    const message = refusal(production);
    expect(message).toMatch(/^Setting MicrosoftAppId is required outside sandbox mode/);
    expect(message!.split('\n')).toHaveLength(1);
    expect(message).not.toContain('graph-secret');
  });

  it('an app id needs a password, a certificate (thumbprint and key) or a managed identity', () => {
    expect(refusal({ ...production, MicrosoftAppId: 'bot-app' })).toMatch(/^Setting MicrosoftAppPassword is required when MicrosoftAppId is set/);
    expect(refusal({ ...production, MicrosoftAppId: 'bot-app', CertificateThumbprint: 'AB12' })).toMatch(/^Setting MicrosoftAppPassword is required/);
    expect(loadSettings({ ...production, MicrosoftAppId: 'bot-app', MicrosoftAppPassword: 'pw' }).sandbox).toBe(false);
    expect(loadSettings({ ...production, MicrosoftAppId: 'bot-app', CertificateThumbprint: 'AB12', CertificatePrivateKey: 'key' }).sandbox).toBe(false);
    expect(loadSettings({ ...production, MicrosoftAppId: 'mi-client', MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppTenantId: 't' }).sandbox).toBe(false);
  });

  it('the sandbox still runs with no settings at all', () => {
    expect(loadSettings({}).sandbox).toBe(true);
  });
});
