import { HttpError } from '../odata.js';
import { noContent, odataContext, ok, servicePrincipal, SYNC, type Route } from './route.js';

// …/synchronization/secrets: the configuration's credentials and settings, replaced as a whole.

/**
 * Secrets Graph never returns on GET. AppKey is write-only: Microsoft's samples of GET …/synchronization/secrets list
 * Domain, SyncNotificationSettings, UserName and Password ("*") only, never the AppKey the portal sets
 * (how-to-inbound-synch-ms-graph.md; the CSS "Cloud Sync data collection" sample in graph-api.md §4).
 */
const WRITE_ONLY_SECRETS = new Set(['AppKey']);
/** Secrets Graph returns masked. */
const MASKED_SECRETS = new Set(['Password', 'SecretToken', 'ClientSecret', 'Oauth2ClientSecret', 'Oauth2AccessToken', 'Oauth2RefreshToken', 'ConsumerSecret']);

export const secretRoutes: Route[] = [
  {
    method: 'GET',
    pattern: `${SYNC}/secrets`,
    stat: 'GET /synchronization/secrets',
    handler: (r) => {
      const sp = servicePrincipal(r);
      const value = sp.secrets.filter((x) => !WRITE_ONLY_SECRETS.has(x.key)).map((x) => ({ key: x.key, value: MASKED_SECRETS.has(x.key) ? '*' : x.value }));
      return ok({ '@odata.context': odataContext(r, "servicePrincipals('id')/synchronization/secrets"), value });
    },
  },
  {
    method: 'PUT',
    pattern: `${SYNC}/secrets`,
    stat: 'PUT /synchronization/secrets',
    handler: (r) => {
      const sp = servicePrincipal(r);
      const value = r.body?.value;
      if (!Array.isArray(value) || value.some((x: any) => typeof x?.key !== 'string' || typeof x?.value !== 'string')) {
        throw new HttpError(400, 'BadRequest', 'The request body must be {"value":[{"key":"…","value":"…"}]}.');
      }
      const notif = value.find((x: any) => x.key === 'SyncNotificationSettings');
      if (notif) validateNotificationSettings(notif.value);
      const appKey = value.find((x: any) => x.key === 'AppKey');
      if (appKey) {
        let scenario: unknown;
        try {
          scenario = JSON.parse(appKey.value)?.appKeyScenario;
        } catch {
          scenario = undefined;
        }
        if (scenario !== 'AD2AADPasswordHash' && scenario !== 'AD2AADProvisioning')
          throw new HttpError(
            400,
            'BadRequest',
            'The AppKey value must be {"appKeyScenario":"AD2AADPasswordHash"} or {"appKeyScenario":"AD2AADProvisioning"}.',
          );
        // AppKey turns on tenant flags; it is not kept as a readable secret.
        sp.appKeyScenario = scenario;
      }
      // Replace-all: whatever is not in the body is gone.
      sp.secrets = value.filter((x: any) => !WRITE_ONLY_SECRETS.has(x.key)).map((x: any) => ({ key: x.key, value: x.value }));
      return noContent();
    },
  },
];

/**
 * SyncNotificationSettings as Microsoft documents it (how-to-inbound-synch-ms-graph.md, "Accidental deletes"):
 * {"Enabled":true,"Recipients":"foobar@xyz.com","DeleteThresholdEnabled":true,"DeleteThresholdValue":50}.
 */
function validateNotificationSettings(v: string): void {
  let o: any;
  try {
    o = JSON.parse(v);
  } catch {
    o = undefined;
  }
  const ok =
    o &&
    typeof o === 'object' &&
    typeof o.Enabled === 'boolean' &&
    typeof o.Recipients === 'string' &&
    typeof o.DeleteThresholdEnabled === 'boolean' &&
    Number.isInteger(o.DeleteThresholdValue) &&
    o.DeleteThresholdValue > 0;
  if (!ok)
    throw new HttpError(
      400,
      'BadRequest',
      'SyncNotificationSettings must be {"Enabled":bool,"Recipients":"a@b;c@d","DeleteThresholdEnabled":bool,"DeleteThresholdValue":int}.',
    );
}
