/** Path builders: one place that knows Graph's URL shapes. Ids are URL-encoded (job ids are opaque). */
// Plan placeholders ({servicePrincipalId}) stay readable; real ids are encoded.
const e = (id: string) => (/^\{\w+\}$/.test(id) ? id : encodeURIComponent(id));

export const SYNC_VERSION = 'beta' as const;

export const paths = {
  instantiate: (templateId: string) => `/applicationTemplates/${e(templateId)}/instantiate`,
  servicePrincipalsByTemplate: (templateId: string) =>
    `/servicePrincipals?$filter=${e(`applicationTemplateId eq '${templateId}'`)}&$select=id,appId,displayName,applicationTemplateId`,
  jobs: (sp: string) => `/servicePrincipals/${e(sp)}/synchronization/jobs`,
  job: (sp: string, job: string) => `/servicePrincipals/${e(sp)}/synchronization/jobs/${e(job)}`,
  jobAction: (sp: string, job: string, action: 'start' | 'pause' | 'restart' | 'provisionOnDemand' | 'validateCredentials') =>
    `/servicePrincipals/${e(sp)}/synchronization/jobs/${e(job)}/${action}`,
  schema: (sp: string, job: string) => `/servicePrincipals/${e(sp)}/synchronization/jobs/${e(job)}/schema`,
  discover: (sp: string, job: string, dir: string) => `/servicePrincipals/${e(sp)}/synchronization/jobs/${e(job)}/schema/directories/${e(dir)}/discover`,
  secrets: (sp: string) => `/servicePrincipals/${e(sp)}/synchronization/secrets`,
  agents: () => `/onPremisesPublishingProfiles/provisioning/agents?$expand=agentGroups`,
  /** activityDateTime takes eq, gt and lt only (provisioningobjectsummary-list); `since` is exclusive (gt). */
  provisioningLogs: (jobId: string, top: number, since?: Date) =>
    `/auditLogs/provisioning?$filter=${e(`jobId eq '${jobId}'${since ? ` and activityDateTime gt ${since.toISOString()}` : ''}`)}&$top=${top}`,
};

/** The versioned path shown to approvers (PlannedRequest.path). */
export function versioned(version: 'v1.0' | 'beta', path: string): string {
  return `/${version}${path}`;
}
