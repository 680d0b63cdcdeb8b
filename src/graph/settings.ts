import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import { mintSandboxAppToken } from './permissions.js';

/**
 * How cutover authenticates to Graph. 'sandbox-app' is for the sandbox simulator: an unsigned app-only token carrying
 * the README's application permissions (APP_PERMISSIONS) or the given roles. 'static-token' sends a token as given.
 */
export const GraphAuthSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('static-token'), token: z.string().min(1) }),
  z.object({ kind: z.literal('sandbox-app'), roles: z.array(z.string().min(1)).optional(), appId: z.string().min(1).optional() }),
  z.object({ kind: z.literal('client-secret'), clientId: z.string().min(1), clientSecret: z.string().min(1) }),
  z.object({ kind: z.literal('client-certificate'), clientId: z.string().min(1), certificatePath: z.string().min(1) }),
  z.object({ kind: z.literal('managed-identity'), clientId: z.string().min(1).optional() }),
]);
export type GraphAuth = z.infer<typeof GraphAuthSchema>;

export const GraphSettingsSchema = z.object({
  /** Graph root without version: https://graph.microsoft.com, https://graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn, or the simulator. */
  baseUrl: z.string().url(),
  tenantId: z.string().min(1),
  auth: GraphAuthSchema,
  /** Entra authority for national clouds, e.g. https://login.microsoftonline.us (AzureAuthorityHosts). */
  authorityHost: z.string().url().optional(),
  /** In-flight requests per tenant (shared by every client of that tenant in this process). */
  maxConcurrency: z.number().int().min(1).max(64).optional(),
  /** Retries of 429/503/504; the SDK's RetryHandler caps this at 10. */
  maxRetries: z.number().int().min(0).max(10).optional(),
  /** Back-off (seconds) when a 503/504 carries no Retry-After. */
  retryDelaySeconds: z.number().min(0).max(180).optional(),
  /** provisionOnDemand budget: Graph allows 5 requests per 10 s; tests shrink the window. */
  provisionOnDemandLimit: z.object({ requests: z.number().int().min(1), intervalMs: z.number().int().min(1) }).optional(),
  /** Reports (auditLogs/provisioning) budget: also 5 requests per 10 s per app per tenant. */
  reportsLimit: z.object({ requests: z.number().int().min(1), intervalMs: z.number().int().min(1) }).optional(),
});
export type GraphSettings = z.infer<typeof GraphSettingsSchema>;

export const DEFAULTS = {
  maxConcurrency: 8,
  maxRetries: 5,
  retryDelaySeconds: 3,
  provisionOnDemandLimit: { requests: 5, intervalMs: 10_000 },
  reportsLimit: { requests: 5, intervalMs: 10_000 },
} as const;

/** The scope for app-only tokens: `<graph origin>/.default`, which also selects the national cloud's Graph. */
export function graphScope(baseUrl: string): string {
  return `${new URL(baseUrl).origin}/.default`;
}

export function createCredential(settings: GraphSettings): TokenCredential | undefined {
  const a = settings.auth;
  const authorityHost = settings.authorityHost;
  switch (a.kind) {
    case 'static-token':
    case 'sandbox-app':
      return undefined;
    case 'client-secret':
      return new ClientSecretCredential(settings.tenantId, a.clientId, a.clientSecret, { authorityHost });
    case 'client-certificate':
      // Read once up front so a wrong path fails at start-up, not at the first runbook step.
      readFileSync(a.certificatePath);
      return new ClientCertificateCredential(settings.tenantId, a.clientId, { certificatePath: a.certificatePath }, { authorityHost });
    case 'managed-identity':
      return a.clientId ? new ManagedIdentityCredential({ clientId: a.clientId }) : new ManagedIdentityCredential();
  }
}

/** The SDK's AuthenticationProvider over a static token or an @azure/identity credential (which caches and refreshes). */
export function createAuthProvider(settings: GraphSettings): AuthenticationProvider {
  if (settings.auth.kind === 'static-token') {
    const token = settings.auth.token;
    return { getAccessToken: async () => token };
  }
  if (settings.auth.kind === 'sandbox-app') {
    const { roles, appId } = settings.auth;
    const tenantId = settings.tenantId;
    return { getAccessToken: async () => mintSandboxAppToken({ tenantId, roles, appId }) };
  }
  const credential = createCredential(settings)!;
  const scope = graphScope(settings.baseUrl);
  return {
    getAccessToken: async () => {
      const t = await credential.getToken(scope);
      if (!t) throw new Error(`no access token for ${scope}`);
      return t.token;
    },
  };
}
