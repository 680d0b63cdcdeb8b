// Key Vault (RBAC authorization, soft delete + purge protection) with cutover's secrets, and read access to
// them for the app's managed identity (Key Vault Secrets User), which the web app uses for Key Vault references.

param location string
param vaultName string
@description('principalId of the managed identity that reads the secrets.')
param readerPrincipalId string
@secure()
param databaseUrl string
@description('Store the bot\'s client secret (botAppType SingleTenant); false when the bot is the managed identity.')
param withBotAppPassword bool
@secure()
param botAppPassword string = ''
@description('Store a Graph client secret (graphAuth ClientSecret); false when Graph is reached with the managed identity.')
param withGraphClientSecret bool
@secure()
param graphClientSecret string = ''
@description('The audit chain\'s HMAC key (AUDIT_HMAC_KEY).')
@secure()
param auditHmacKey string
param tags object = {}

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: databaseUrl
    contentType: 'DATABASE_URL'
  }
}

resource botAppPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (withBotAppPassword) {
  parent: vault
  name: 'bot-app-password'
  properties: {
    value: botAppPassword
    contentType: 'MicrosoftAppPassword'
  }
}

resource graphClientSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (withGraphClientSecret) {
  parent: vault
  name: 'graph-client-secret'
  properties: {
    value: graphClientSecret
    contentType: 'GRAPH_CLIENT_SECRET'
  }
}

resource auditHmacKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'audit-hmac-key'
  properties: {
    value: auditHmacKey
    contentType: 'AUDIT_HMAC_KEY'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, readerPrincipalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output vaultName string = vault.name
// Versionless URIs: App Service picks up a rotated secret (within a day, or at once on restart).
output databaseUrlSecretUri string = databaseUrlSecret.properties.secretUri
output auditHmacKeySecretUri string = auditHmacKeySecret.properties.secretUri
// The name says "Password" but the value is the secret's URI (a Key Vault reference for an app setting), never the
// secret itself: the linter matches the name, so the warning is suppressed here on purpose.
#disable-next-line outputs-should-not-contain-secrets
output botAppPasswordSecretUri string = withBotAppPassword ? botAppPasswordSecret!.properties.secretUri : ''
output graphClientSecretUri string = withGraphClientSecret ? graphClientSecretSecret!.properties.secretUri : ''
