import { afterEach, describe, expect, it } from 'vitest';
import { GraphError } from '../../src/graph/index.js';
import { raw, startSandbox } from './helpers.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});
async function sandbox() {
  const s = await startSandbox();
  running.push(s.sim);
  return s;
}

describe('group transitive members (change owners through a group)', () => {
  it('pages /groups/{id}/transitiveMembers/microsoft.graph.user through nested groups, each user once', async () => {
    const { sim, graph, baseUrl } = await sandbox();
    const direct = Array.from({ length: 130 }, (_, i) => sim.addCloudUser(`d${i}@contoso.com`, `Direct ${i}`));
    const nested = Array.from({ length: 120 }, (_, i) => sim.addCloudUser(`n${i}@contoso.com`, `Nested ${i}`));
    const inner = sim.addCloudGroup('Inner', [...nested, direct[0]]);
    const outer = sim.addCloudGroup('Outer', [...direct, inner]);
    sim.addGroupMember(inner, outer); // a cycle: still each member once
    sim.addCloudUser('outsider@contoso.com', 'Outsider');

    const before = graph.stats().httpRequests;
    const members = await graph.transitiveUserMembers(outer);
    expect(graph.stats().httpRequests - before).toBe(3); // 250 users at Graph's default page of 100
    expect(members).toHaveLength(250);
    expect(new Set(members.map((m) => m.id))).toEqual(new Set([...direct, ...nested]));
    expect(members.find((m) => m.id === nested[5])).toEqual({ id: nested[5], displayName: 'Nested 5' });
    expect(await graph.getGroup(outer)).toEqual({ id: outer, displayName: 'Outer' });

    // The wire shape: the cast returns users only, $select applied, @odata.nextLink to the next page.
    const page = await raw(baseUrl, 'GET', `/v1.0/groups/${outer}/transitiveMembers/microsoft.graph.user?$select=id,displayName`);
    expect(page.status).toBe(200);
    expect(page.body['@odata.context']).toMatch(/\$metadata#users\(id,displayName\)$/);
    expect(page.body.value).toHaveLength(100);
    expect(Object.keys(page.body.value[0]).sort()).toEqual(['displayName', 'id']);
    expect(page.body['@odata.nextLink']).toMatch(new RegExp(`/v1\\.0/groups/${outer}/transitiveMembers/microsoft\\.graph\\.user\\?.*\\$skiptoken=`));
    // Without the cast: users and the nested group, each with its @odata.type.
    const all = await raw(baseUrl, 'GET', `/v1.0/groups/${outer}/transitiveMembers?$select=id&$top=999`);
    expect(all.body.value).toHaveLength(251);
    expect(all.body.value.filter((o: any) => o['@odata.type'] === '#microsoft.graph.group').map((o: any) => o.id)).toEqual([inner]);

    // Membership changes show at the next read.
    sim.removeGroupMember(inner, nested[0]);
    expect(await graph.transitiveUserMembers(outer)).toHaveLength(249);
  });

  it('answers 404 Request_ResourceNotFound for an unknown group, and 400 for an unsupported cast', async () => {
    const { sim, graph, baseUrl } = await sandbox();
    const err = await graph.transitiveUserMembers('0b0b0b0b-0000-4000-8000-000000000404').catch((e) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ status: 404, code: 'Request_ResourceNotFound' });
    expect(await graph.getGroup('0b0b0b0b-0000-4000-8000-000000000404').catch((e) => e)).toMatchObject({ status: 404, code: 'Request_ResourceNotFound' });
    const g = sim.addCloudGroup('G', []);
    expect(await graph.transitiveUserMembers(g)).toEqual([]);
    const bad = await raw(baseUrl, 'GET', `/v1.0/groups/${g}/transitiveMembers/microsoft.graph.device`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('Request_UnsupportedQuery');
    // A user id is not a group
    const u = sim.addCloudUser('u@contoso.com');
    expect((await raw(baseUrl, 'GET', `/v1.0/groups/${u}/transitiveMembers/microsoft.graph.user`)).status).toBe(404);
  });
});
