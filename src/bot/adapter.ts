import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import type { Settings } from '../config.js';

/**
 * The Bot Framework adapter from cutover's settings (botbuilder's own names). With MicrosoftAppId set, every
 * inbound activity's JWT is validated; without one (the Playground) activities are accepted anonymously.
 */
export function createAdapter(settings: Settings): CloudAdapter {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: settings.MicrosoftAppId ?? '',
    MicrosoftAppPassword: settings.MicrosoftAppPassword ?? '',
    MicrosoftAppType: settings.MicrosoftAppType ?? '',
    MicrosoftAppTenantId: settings.MicrosoftAppTenantId ?? '',
    CertificateThumbprint: settings.CertificateThumbprint,
    CertificatePrivateKey: settings.CertificatePrivateKey,
  } as ConfigurationBotFrameworkAuthenticationOptions);
  return new CloudAdapter(auth);
}
