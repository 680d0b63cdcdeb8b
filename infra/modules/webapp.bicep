// App Service plan + Linux Web App running cutover on Node 22 LTS (`npm start`), with its app settings.
// Every setting the app reads is named exactly as src/config.ts names it; secrets are Key Vault references
// resolved by App Service with the user-assigned identity (keyVaultReferenceIdentity).

param location string
param planName string
param siteName string
param sku string
param instances int
@description('Node.js LTS line, e.g. 22-lts.')
param nodeVersion string
param identityId string
param identityClientId string
param botAppType string
param botAppId string
param botAppPasswordSecretUri string
param graphTenantId string
param graphAuth string
param graphClientId string
param graphClientSecretUri string
param databaseUrlSecretUri string
param auditHmacKeySecretUri string
param publicUrl string
param appInsightsConnectionString string
param logLevel string
@description('CUTOVER_ADMINS: object ids, comma-separated; empty: not set.')
param cutoverAdmins string
@description('CUTOVER_ADMINS_GROUP: a group object id; empty: not set.')
param cutoverAdminsGroup string
@description('CUTOVER_RESPONDERS_GROUP: a group object id; empty: not set.')
param cutoverRespondersGroup string
param tags object = {}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: sku
    capacity: instances
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2023-12-01' = {
  name: siteName
  location: location
  tags: tags
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      linuxFxVersion: 'NODE|${nodeVersion}'
      appCommandLine: 'npm start'
      alwaysOn: true
      healthCheckPath: '/readyz'
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
      webSocketsEnabled: false
    }
  }
}

var siteUrl = empty(publicUrl) ? 'https://${site.properties.defaultHostName}' : publicUrl

// What the platform needs (not read by cutover itself).
var platformSettings = {
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true' // Oryx runs npm install on zip deploy
  WEBSITES_PORT: '8080'
  // cutover exports its own spans with @azure/monitor-opentelemetry (src/telemetry/); App Service's codeless agent
  // (ApplicationInsightsAgent_EXTENSION_VERSION) stays off, or each request would be reported twice.
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
}

var serviceSettings = {
  HOST: '0.0.0.0'
  PORT: '8080'
  PUBLIC_URL: siteUrl
  DATABASE_URL: '@Microsoft.KeyVault(SecretUri=${databaseUrlSecretUri})'
  // The audit chain's key: every instance must hold the same one, or each reports the others' rows as unknown-key.
  AUDIT_HMAC_KEY: '@Microsoft.KeyVault(SecretUri=${auditHmacKeySecretUri})'
  SANDBOX: '0'
  PLAYGROUND: '0'
  MONITOR: '1'
  LOG_LEVEL: logLevel
}

// The bot: the managed identity itself, or an app registration whose secret is in Key Vault.
var botAsManagedIdentity = {
  MicrosoftAppType: 'UserAssignedMSI'
  MicrosoftAppId: identityClientId
  MicrosoftAppTenantId: tenant().tenantId
}
var botAsSingleTenantApp = {
  MicrosoftAppType: 'SingleTenant'
  MicrosoftAppId: botAppId
  MicrosoftAppTenantId: tenant().tenantId
  MicrosoftAppPassword: '@Microsoft.KeyVault(SecretUri=${botAppPasswordSecretUri})'
}
var botSettings = botAppType == 'UserAssignedMSI' ? botAsManagedIdentity : botAsSingleTenantApp

// Graph: the managed identity (GRAPH_CLIENT_ID picks which user-assigned identity), or an app registration.
var graphWithManagedIdentity = {
  GRAPH_TENANT_ID: graphTenantId
  GRAPH_MANAGED_IDENTITY: '1'
  GRAPH_CLIENT_ID: identityClientId
}
var graphWithClientSecret = {
  GRAPH_TENANT_ID: graphTenantId
  GRAPH_MANAGED_IDENTITY: '0'
  GRAPH_CLIENT_ID: graphClientId
  GRAPH_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${graphClientSecretUri})'
}
var graphSettings = graphAuth == 'ManagedIdentity' ? graphWithManagedIdentity : graphWithClientSecret

// Who may administer runners and respond to alerts (each set only when given: an empty value is not a valid one).
// No administrator at all: nobody can register a runner (cutover fails closed and warns at start).
var adminsSetting = empty(cutoverAdmins) ? {} : {
  CUTOVER_ADMINS: cutoverAdmins
}
var adminsGroupSetting = empty(cutoverAdminsGroup) ? {} : {
  CUTOVER_ADMINS_GROUP: cutoverAdminsGroup
}
var respondersGroupSetting = empty(cutoverRespondersGroup) ? {} : {
  CUTOVER_RESPONDERS_GROUP: cutoverRespondersGroup
}
var authoritySettings = union(adminsSetting, adminsGroupSetting, respondersGroupSetting)

resource appSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: site
  name: 'appsettings'
  properties: union(platformSettings, serviceSettings, botSettings, graphSettings, authoritySettings)
}

output siteName string = site.name
output publicUrl string = siteUrl
output possibleOutboundIpAddresses string = site.properties.possibleOutboundIpAddresses
