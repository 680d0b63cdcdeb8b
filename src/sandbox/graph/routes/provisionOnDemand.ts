import { randomUUID } from 'node:crypto';
import { isValidDn, normalizeDn } from '../../../dn.js';
import type { AdObjectClass } from '../../contracts.js';
import { CLOUD_SYNC_CLASSES, iso } from '../model.js';
import { HttpError } from '../odata.js';
import { JOB, odataContext, ok, syncJob, type GraphRequest, type Route } from './route.js';

// POST …/jobs/{id}/provisionOnDemand: one AD object through the job's rules now, throttled like Graph's (a sliding
// window per tenant), and logged like a cycle's export.

export const provisionOnDemandRoutes: Route[] = [
  { method: 'POST', pattern: `${JOB}/provisionOnDemand`, stat: 'POST /jobs/{id}/provisionOnDemand', handler: (r) => ok(provisionOnDemand(r)) },
];

function provisionOnDemand(r: GraphRequest): unknown {
  const { sp, job } = syncJob(r);
  const sim = r.sim;
  const body = r.body;
  const ctx = (fragment: string) => odataContext(r, fragment);
  const now = sim.clock.now().getTime();
  const { requests, windowMs } = sim.limits.provisionOnDemandLimit;
  const hits = sim.onDemandHits;
  while (hits.length && hits[0] <= now - windowMs) hits.shift();
  if (hits.length >= requests) {
    const wait = Math.max(0.001, (hits[0] + windowMs - now) / 1000);
    throw new HttpError(429, 'TooManyRequests', 'Please retry again later.', { 'retry-after': wait.toFixed(3) });
  }
  hits.push(now);
  const p = body?.parameters?.[0];
  const ruleIds = (job.schema.synchronizationRules ?? []).map((rule: any) => rule.id);
  if (!p || !ruleIds.includes(p.ruleId)) {
    throw new HttpError(400, 'RequestParameterInvalid', `The request parameter is invalid: the job does not include the rule '${String(p?.ruleId)}'.`);
  }
  const subject = p.subjects?.[0];
  const dn = subject?.objectId;
  if (typeof dn !== 'string' || !isValidDn(dn))
    throw new HttpError(400, 'RequestParameterInvalid', 'The subject objectId must be the distinguished name of the AD object.');
  const domainSecret = sp.secrets.find((x) => x.key === 'Domain');
  const domain = domainSecret ? (JSON.parse(domainSecret.value).domain as string) : undefined;
  const wantedClass = (CLOUD_SYNC_CLASSES as string[]).find((c) => c.toLowerCase() === String(subject.objectTypeName ?? 'user').toLowerCase()) ?? 'user';
  const obj =
    sim.onPrem && domain ? sim.onPrem.objectsUnder([dn], [wantedClass as AdObjectClass]).find((o) => normalizeDn(o.dn) === normalizeDn(dn)) : undefined;
  const startTime = iso(sim.clock.now());
  const step = (name: string, type: string, status: string, description: string) => ({ name, type, status, description, timestamp: startTime, details: {} });
  if (!obj || !domain) {
    return {
      '@odata.context': ctx('microsoft.graph.stringKeyStringValuePair'),
      key: JSON.stringify({ result: 'Failure', details: { errorCode: 'EntryNotFound' } }),
      value: JSON.stringify({
        provisioningSteps: [step('EntryImportObjectNotFound', 'Import', 'Failure', `No object ${dn} was found in Active Directory`)],
        modifiedProperties: [],
        action: 'Other',
        statusInfo: { status: 'Failure' },
      }),
    };
  }
  // "No user or group will be provisioned on-demand that would not have been provisioned through the regular cycles."
  const inScope = sim.inScope(job.schema, sim.onPrem!, domain).some((o) => o.objectGUID.toLowerCase() === obj.objectGUID.toLowerCase());
  if (!inScope) {
    return {
      '@odata.context': ctx('microsoft.graph.stringKeyStringValuePair'),
      key: JSON.stringify({ result: 'Skipped', details: { errorCode: 'NotEffectivelyEntitled', reason: 'The object is out of the job scope.' } }),
      value: JSON.stringify({
        provisioningSteps: [
          step('EntryImportAdd', 'Import', 'Success', `Retrieved ${dn}`),
          step('EntitlementEvaluation', 'Scoping', 'Skipped', 'The object is not in the scope of the job.'),
        ],
        modifiedProperties: [],
        action: 'Other',
        statusInfo: { status: 'Skipped' },
      }),
    };
  }
  // Matching is on the source anchor: no Entra object with it means Cloud Sync creates one (a duplicate, when the
  // person already exists in Entra under another anchor).
  const what = sim.directory.exportObject(obj, 'cloud', domain);
  const targetId = sim.directory.byGuid.get(obj.objectGUID.toLowerCase()) ?? null;
  const kindOf = (c: string) => (c === 'group' ? 'Group' : c === 'contact' ? 'Contact' : 'User');
  const result = what === 'none' ? { result: 'Skipped', details: { errorCode: 'RedundantExport' } } : { result: 'Success', details: {} };
  // On-demand provisioning is recorded in the provisioning logs like a cycle's export.
  if (what !== 'skipped')
    sim.addLog(
      sp,
      job,
      randomUUID(),
      sim.clock.now(),
      what === 'none' ? 'update' : what,
      { id: obj.objectGUID, displayName: obj.displayName, type: obj.objectClass },
      targetId,
    );
  return {
    '@odata.context': ctx('microsoft.graph.stringKeyStringValuePair'),
    key: JSON.stringify(result),
    value: JSON.stringify({
      provisioningSteps: [
        step('EntryImportAdd', 'Import', 'Success', `Retrieved ${dn} from Active Directory`),
        what === 'create'
          ? step(
              'EntryMatching',
              'Matching',
              'Success',
              'No matching entry was found in Microsoft Entra ID for the source anchor; a new entry will be created.',
            )
          : step('EntryMatching', 'Matching', 'Success', `Matched the Microsoft Entra ID entry ${targetId} on the source anchor.`),
        step('EntitlementEvaluation', 'Scoping', 'Success', 'The object is in scope'),
        step(what === 'create' ? 'EntryExportAdd' : 'EntryExportUpdate', 'Export', what === 'none' ? 'Skipped' : 'Success', 'Exported to Microsoft Entra ID'),
      ],
      modifiedProperties: [{ displayName: 'OnPremisesDistinguishedName', newValue: obj.dn }],
      action: what === 'create' ? 'Create' : 'Update',
      changeId: randomUUID(),
      startTime,
      endTime: startTime,
      reportableIdentifier: obj.userPrincipalName ?? obj.displayName,
      sourceIdentity: { id: obj.objectGUID, type: obj.objectClass },
      sourceSystem: { name: 'Active Directory' },
      statusInfo: { status: result.result },
      targetIdentity: { id: targetId, type: kindOf(obj.objectClass) },
      targetSystem: { name: 'Azure Active Directory' },
    }),
  };
}
