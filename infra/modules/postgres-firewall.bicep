// One firewall rule per possible outbound address of the web app (a comma-separated list that App Service
// reports). A separate module so the loop count is known when it starts. Redeploy after changing the plan's SKU:
// the outbound addresses can change with it.

param serverName string
param ipAddresses string

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' existing = {
  name: serverName
}

resource rules 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = [for (ip, i) in split(ipAddresses, ','): {
  parent: server
  name: 'webapp-outbound-${i}'
  properties: {
    startIpAddress: trim(ip)
    endIpAddress: trim(ip)
  }
}]
