// Azure Bot registration (single-tenant or user-assigned managed identity; multi-tenant bot creation is
// deprecated) with the Microsoft Teams channel.

param botName string
param sku string
@description('https://<host>/api/messages')
param endpoint string
@allowed([
  'UserAssignedMSI'
  'SingleTenant'
])
param msaAppType string
param msaAppId string
@description('UserAssignedMSI only: the identity\'s resource id.')
param msiResourceId string = ''
param tags object = {}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: botName
  location: 'global'
  kind: 'azurebot'
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    displayName: 'cutover'
    description: 'Entra Connect Sync to Cloud Sync migrations as change-managed runbooks'
    endpoint: endpoint
    msaAppId: msaAppId
    msaAppType: msaAppType
    msaAppTenantId: tenant().tenantId
    msaAppMSIResourceId: msaAppType == 'UserAssignedMSI' ? msiResourceId : null
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

output msaAppId string = bot.properties.msaAppId
