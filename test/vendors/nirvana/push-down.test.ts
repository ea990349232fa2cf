import type { SourceQuery } from '../../../src/sources/data-source';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog } from '../../../src/vendors/nirvana/normalize';
import { nirvanaPushDown } from '../../../src/vendors/nirvana/push-down';
import { NO_FILTER } from '../../contract/datasource-contract';

describe('nirvanaPushDown', () => {
  const q = (query: Partial<SourceQuery>): SourceQuery => ({ ...NO_FILTER, ...query });

  it('sends the window as inclusive created_at bounds at fromMs and toMs, never a millisecond less', () => {
    const pushDown = nirvanaPushDown(q({ fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 0, 2) }));
    expect(pushDown.params).toEqual({ created_at_min: '2026-01-01T00:00:00.000Z', created_at_max: '2026-01-02T00:00:00.000Z' });
    expect(pushDown.complete).toBe(true);
    expect(nirvanaPushDown(q({ toMs: 1_000 })).params).toEqual({ created_at_max: '1970-01-01T00:00:01.000Z' });
  });

  it('sends one value of each exact filter, and nothing for several', () => {
    const one = q({ actions: ['vm.created'], actorIds: ['a1'], targetIds: ['t1'], targetTypes: ['vm'], clientIps: ['192.0.2.7'] });
    expect(nirvanaPushDown(one)).toMatchObject({
      params: { action: 'vm.created', actor_id: 'a1', target_id: 't1', target_type: 'vm', client_ip: '192.0.2.7' },
      complete: true,
    });
    const several = q({ actions: ['vm.created', 'vm.deleted'], actorIds: ['a1', 'a2'], targetIds: ['t1', 't2'], targetTypes: ['vm', 'vpc'], clientIps: ['192.0.2.7', '192.0.2.8'] });
    expect(nirvanaPushDown(several)).toMatchObject({ params: {}, complete: false });
  });

  it('sends no action the gateway may have named itself (records without `action`)', () => {
    expect(nirvanaPushDown(q({ actions: ['POST /v1/compute/vms'] })).params).toEqual({});
    expect(nirvanaPushDown(q({ actions: ['unknown'] })).params).toEqual({});
    expect(nirvanaPushDown(q({ actions: ['get /v1/vms'] })).params).toEqual({ action: 'get /v1/vms' });
    expect(nirvanaPushDown(q({ actions: ['DELETE\t/v1/vms/1'] })).params).toEqual({});
  });

  it('sends a recorded action with blanks in it, which no name made up by the gateway has', () => {
    expect(nirvanaPushDown(q({ actions: ['Assertion Request:Denied'] })).params).toEqual({ action: 'Assertion Request:Denied' });
    expect(nirvanaPushDown(q({ actions: ['vm created'] })).params).toEqual({ action: 'vm created' });
  });

  it('sends an actor type only when the query wants exactly one of USER and API_KEY, and not UNKNOWN', () => {
    expect(nirvanaPushDown(q({ actorTypes: ['USER'] })).params).toEqual({ actor_type: 'user' });
    expect(nirvanaPushDown(q({ actorTypes: ['API_KEY', 'SERVICE_ACCOUNT'] })).params).toEqual({ actor_type: 'api_key' });
    expect(nirvanaPushDown(q({ actorTypes: ['USER', 'API_KEY'] })).params).toEqual({});
    expect(nirvanaPushDown(q({ actorTypes: ['USER', 'UNKNOWN'] })).params).toEqual({});
    expect(nirvanaPushDown(q({ actorTypes: ['SERVICE_ACCOUNT'] })).params).toEqual({});
  });

  it('sends one IPv4 address only: no IPv6, no range', () => {
    expect(nirvanaPushDown(q({ clientIps: ['2001:db8::1'] })).params).toEqual({});
    expect(nirvanaPushDown(q({ clientIps: ['192.0.2.0/24'] })).params).toEqual({});
  });

  it('sends failed as a status bound: true as status_code_min=400, false as status_code_max=399', () => {
    expect(nirvanaPushDown(q({ failed: true })).params).toEqual({ status_code_min: 400 });
    expect(nirvanaPushDown(q({ failed: false })).params).toEqual({ status_code_max: 399 });
  });

  it('is incomplete when the query sets a field Nirvana cannot filter on', () => {
    for (const field of ['text', 'actorEmails', 'sessionIds', 'requestIds', 'traceIds', 'userAgents', 'repositoryIds', 'sourceEventIds'] as const) {
      const value = field === 'text' ? 'deploy' : ['x'];
      const pushDown = nirvanaPushDown(q({ fromMs: 0, [field]: value }));
      expect({ field, params: pushDown.params, complete: pushDown.complete }).toEqual({ field, params: { created_at_min: '1970-01-01T00:00:00.000Z' }, complete: false });
    }
  });

  it('admits what an upstream applying the parameters lists, the millisecond of toMs included', () => {
    const event = normalizeNirvanaAuditLog(
      parseNirvanaAuditLog({
        id: 'e1',
        action: 'vm.created',
        actor: { id: 'a1', name: 'Alice', type: 'user' },
        client_ip: '192.0.2.7',
        created_at: '1970-01-01T00:00:02.000Z',
        method: 'POST',
        path: '/v1/compute/vms',
        status_code: 201,
        user_agent: 'curl/8.7.1',
      }),
      'nirvana-test',
    );
    expect(nirvanaPushDown(q({ fromMs: 1_000, toMs: 2_000 })).admits(event)).toBe(true);
    expect(nirvanaPushDown(q({ fromMs: 1_000, toMs: 1_999 })).admits(event)).toBe(false);
    expect(nirvanaPushDown(q({ failed: true })).admits(event)).toBe(false);
    // Text is not sent, so it is no reason to doubt the upstream.
    expect(nirvanaPushDown(q({ text: 'nothing like it' })).admits(event)).toBe(true);
  });
});
