import { LRUCache } from 'lru-cache';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import type { Settings } from '../config.js';

type ConnectorFactory = ReturnType<ConfigurationBotFrameworkAuthentication['createConnectorFactory']>;
type ConnectorClient = Awaited<ReturnType<ConnectorFactory['create']>>;
type ClaimsIdentity = Parameters<ConfigurationBotFrameworkAuthentication['createConnectorFactory']>[0];
type UserTokenClient = Awaited<ReturnType<ConfigurationBotFrameworkAuthentication['createUserTokenClient']>>;

/** The bot's app id a claims identity speaks for (botframework-connector's own rule: the audience, else appid). */
const appIdOf = (claims: ClaimsIdentity): string => claims.getClaimValue('aud') ?? claims.getClaimValue('appid') ?? '';

/**
 * botbuilder's authentication, keeping the Bot Connector clients it makes. Out of the box every turn and every
 * proactive send builds a new ConnectorClient and UserTokenClient (credentials, an HTTP pipeline of a dozen policies):
 * about a third of the CPU of a card click. A client is stateless between requests and its credentials fetch and cache
 * their own tokens, so one per app id, service URL and audience serves every turn. Bounded: without an app id anyone
 * can name a service URL.
 */
class ReusingClientsAuthentication extends ConfigurationBotFrameworkAuthentication {
  readonly #connectors = new LRUCache<string, Promise<ConnectorClient>>({ max: 64 });
  readonly #userTokens = new LRUCache<string, Promise<UserTokenClient>>({ max: 8 });

  override async authenticateRequest(...args: Parameters<ConfigurationBotFrameworkAuthentication['authenticateRequest']>) {
    return this.#reusingIn(await super.authenticateRequest(...args));
  }

  override async authenticateStreamingRequest(...args: Parameters<ConfigurationBotFrameworkAuthentication['authenticateStreamingRequest']>) {
    return this.#reusingIn(await super.authenticateStreamingRequest(...args));
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.#reusing(super.createConnectorFactory(claimsIdentity), appIdOf(claimsIdentity));
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.#once(this.#userTokens, appIdOf(claimsIdentity), () => super.createUserTokenClient(claimsIdentity));
  }

  /** An authenticated request whose connector factory hands out the kept clients. */
  #reusingIn<R extends Awaited<ReturnType<ConfigurationBotFrameworkAuthentication['authenticateRequest']>>>(result: R): R {
    return { ...result, connectorFactory: result.connectorFactory && this.#reusing(result.connectorFactory, appIdOf(result.claimsIdentity)) };
  }

  #reusing(factory: ConnectorFactory, appId: string): ConnectorFactory {
    const create = (serviceUrl: string, audience?: string) =>
      this.#once(this.#connectors, JSON.stringify([appId, serviceUrl, audience ?? null]), () => factory.create(serviceUrl, audience));
    return Object.assign(Object.create(factory) as ConnectorFactory, { create });
  }

  /** The cached promise, or a new one (forgotten if it fails, so a failure is not kept). */
  #once<T extends object>(cache: LRUCache<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    let made = cache.get(key);
    if (!made) {
      made = make();
      cache.set(key, made);
      made.catch(() => cache.delete(key));
    }
    return made;
  }
}

/**
 * The Bot Framework adapter from cutover's settings (botbuilder's own names). With MicrosoftAppId set, every
 * inbound activity's JWT is validated; without one (the Playground) activities are accepted anonymously.
 */
export function createAdapter(settings: Settings): CloudAdapter {
  const auth = new ReusingClientsAuthentication({
    MicrosoftAppId: settings.MicrosoftAppId ?? '',
    MicrosoftAppPassword: settings.MicrosoftAppPassword ?? '',
    MicrosoftAppType: settings.MicrosoftAppType ?? '',
    MicrosoftAppTenantId: settings.MicrosoftAppTenantId ?? '',
    CertificateThumbprint: settings.CertificateThumbprint,
    CertificatePrivateKey: settings.CertificatePrivateKey,
  } as ConfigurationBotFrameworkAuthenticationOptions);
  return new CloudAdapter(auth);
}
