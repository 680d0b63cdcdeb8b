// cutover on Azure: one resource group holding
//   - a user-assigned managed identity (the app's identity: Key Vault references, Graph where possible, and the
//     bot's identity when botAppType is UserAssignedMSI)
//   - Log Analytics + Application Insights
//   - Azure Database for PostgreSQL flexible server (TLS required; the app's DATABASE_URL lives in Key Vault)
//   - Key Vault (RBAC) with the secrets: DATABASE_URL, and the bot / Graph client secrets when those are used
//   - App Service plan + Linux Web App (Node 22 LTS, `npm start`), app settings named as src/config.ts reads them
//   - Azure Bot (single-tenant or user-assigned managed identity) with the Microsoft Teams channel
//
// Deploy: see infra/README.md (az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json …).

targetScope = 'resourceGroup'

@description('Azure region for everything but the bot (which is global).')
param location string = resourceGroup().location

@description('Short lowercase prefix for resource names.')
@minLength(3)
@maxLength(10)
param namePrefix string = 'cutover'

@description('How the bot authenticates to the Bot Framework. UserAssignedMSI needs no secret: the bot is the managed identity. SingleTenant uses an Entra app registration (botAppId) and its client secret (botAppPassword), kept in Key Vault.')
@allowed([
  'UserAssignedMSI'
  'SingleTenant'
])
param botAppType string = 'UserAssignedMSI'

@description('SingleTenant only: the client id of the bot\'s Entra app registration (in this tenant).')
param botAppId string = ''

@description('SingleTenant only: a client secret of that app registration. Stored in Key Vault; the web app reads it through a Key Vault reference.')
@secure()
param botAppPassword string = ''

@description('Azure Bot pricing tier.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('The Entra tenant whose Cloud Sync cutover migrates (GRAPH_TENANT_ID). Defaults to this deployment\'s tenant.')
param graphTenantId string = tenant().tenantId

@description('How cutover authenticates to Microsoft Graph. ManagedIdentity works only when graphTenantId is the tenant of this deployment (a managed identity has no tokens for other tenants); ClientSecret uses an app registration consented in graphTenantId.')
@allowed([
  'ManagedIdentity'
  'ClientSecret'
])
param graphAuth string = 'ManagedIdentity'

@description('ClientSecret only: the client id of the Graph app registration.')
param graphClientId string = ''

@description('ClientSecret only: its client secret. Stored in Key Vault.')
@secure()
param graphClientSecret string = ''

@description('The audit chain\'s HMAC key (AUDIT_HMAC_KEY): 32+ random bytes as hex (openssl rand -hex 32), generated once and kept; a new key would make earlier rows unverifiable. Stored in Key Vault.')
@secure()
@minLength(32)
param auditHmacKey string

@description('PostgreSQL administrator login (cutover connects with it; see the README for a dedicated role).')
param postgresAdminLogin string = 'cutoveradmin'

@description('PostgreSQL administrator password. Stored in Key Vault as part of DATABASE_URL.')
@secure()
@minLength(12)
param postgresAdminPassword string

@description('PostgreSQL major version.')
@allowed([
  '15'
  '16'
])
param postgresVersion string = '16'

@description('PostgreSQL compute size (Burstable B1ms is enough for a handful of migrations).')
param postgresSkuName string = 'Standard_B1ms'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'Burstable'

@description('Node.js LTS line of the App Service runtime. cutover runs on Node 22 LTS (CI runs its tests on it); Node 20 reached its end of life in April 2026.')
@allowed([
  '22-lts'
])
param nodeVersion string = '22-lts'

@description('App Service plan SKU. B1 or above (Always On); S1/P0v3 or above to run more than one instance.')
param appServiceSku string = 'B1'

@description('Web app instances. More than one needs PostgreSQL (which this template provides): runner jobs are leased once and one monitor runs.')
@minValue(1)
@maxValue(10)
param appServiceInstances int = 1

@description('The public https URL of cutover if you put a custom domain in front of it (no trailing slash). Empty: https://<web app default host name>.')
param publicUrl string = ''

@description('Log level (LOG_LEVEL).')
@allowed([
  'fatal'
  'error'
  'warn'
  'info'
  'debug'
  'trace'
])
param logLevel string = 'info'

@description('cutover\'s administrators (CUTOVER_ADMINS): Entra object ids of people, comma-separated. Only administrators register, rotate and revoke runners, and adding or rotating one needs a second administrator\'s approval: name at least two here or through cutoverAdminsGroup. With neither, nobody is an administrator and no runner can be registered.')
param cutoverAdmins string = ''

@description('An Entra group whose transitive user members are administrators too (CUTOVER_ADMINS_GROUP): its object id, read through Graph in the tenant.')
param cutoverAdminsGroup string = ''

@description('An Entra group whose members may acknowledge, snooze and resolve alerts besides each migration\'s change owners (CUTOVER_RESPONDERS_GROUP): its object id.')
param cutoverRespondersGroup string = ''

param tags object = {
  app: 'cutover'
}

var suffix = uniqueString(resourceGroup().id)
var names = {
  identity: '${namePrefix}-id-${suffix}'
  logs: '${namePrefix}-logs-${suffix}'
  appInsights: '${namePrefix}-ai-${suffix}'
  postgres: toLower('${namePrefix}-pg-${suffix}')
  keyVault: 'kv-${namePrefix}-${take(suffix, 8)}'
  plan: '${namePrefix}-plan-${suffix}'
  site: '${namePrefix}-${suffix}'
  bot: '${namePrefix}-bot-${suffix}'
}
var databaseName = 'cutover'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: names.logs
    appInsightsName: names.appInsights
    tags: tags
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    location: location
    serverName: names.postgres
    databaseName: databaseName
    adminLogin: postgresAdminLogin
    adminPassword: postgresAdminPassword
    version: postgresVersion
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    vaultName: names.keyVault
    readerPrincipalId: identity.properties.principalId
    // sslmode=verify-full: TLS with the server's certificate checked against Node's CA store and its host name.
    databaseUrl: 'postgresql://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.outputs.fqdn}:5432/${databaseName}?sslmode=verify-full'
    // A secret is stored only for the mode that uses it; an empty one then fails the deployment, as it should.
    withBotAppPassword: botAppType == 'SingleTenant'
    botAppPassword: botAppPassword
    withGraphClientSecret: graphAuth == 'ClientSecret'
    graphClientSecret: graphClientSecret
    auditHmacKey: auditHmacKey
    tags: tags
  }
}

module web 'modules/webapp.bicep' = {
  name: 'webapp'
  params: {
    location: location
    planName: names.plan
    siteName: names.site
    sku: appServiceSku
    instances: appServiceInstances
    nodeVersion: nodeVersion
    identityId: identity.id
    identityClientId: identity.properties.clientId
    botAppType: botAppType
    botAppId: botAppId
    botAppPasswordSecretUri: keyVault.outputs.botAppPasswordSecretUri
    graphTenantId: graphTenantId
    graphAuth: graphAuth
    graphClientId: graphClientId
    graphClientSecretUri: keyVault.outputs.graphClientSecretUri
    databaseUrlSecretUri: keyVault.outputs.databaseUrlSecretUri
    auditHmacKeySecretUri: keyVault.outputs.auditHmacKeySecretUri
    publicUrl: publicUrl
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    logLevel: logLevel
    cutoverAdmins: cutoverAdmins
    cutoverAdminsGroup: cutoverAdminsGroup
    cutoverRespondersGroup: cutoverRespondersGroup
    tags: tags
  }
}

// The database accepts connections only from the web app's possible outbound addresses.
module postgresFirewall 'modules/postgres-firewall.bicep' = {
  name: 'postgres-firewall'
  params: {
    serverName: postgres.outputs.serverName
    ipAddresses: web.outputs.possibleOutboundIpAddresses
  }
}

module bot 'modules/bot.bicep' = {
  name: 'bot'
  params: {
    botName: names.bot
    sku: botSku
    endpoint: '${web.outputs.publicUrl}/api/messages'
    msaAppType: botAppType
    msaAppId: botAppType == 'UserAssignedMSI' ? identity.properties.clientId : botAppId
    msiResourceId: botAppType == 'UserAssignedMSI' ? identity.id : ''
    tags: tags
  }
}

output webAppName string = web.outputs.siteName
output publicUrl string = web.outputs.publicUrl
@description('The bot id: MicrosoftAppId, and the manifest\'s botId (npm run package:teams).')
output botId string = bot.outputs.msaAppId
output managedIdentityClientId string = identity.properties.clientId
@description('Grant the Graph application permissions to this service principal (infra/README.md).')
output managedIdentityPrincipalId string = identity.properties.principalId
output keyVaultName string = keyVault.outputs.vaultName
output postgresFqdn string = postgres.outputs.fqdn
