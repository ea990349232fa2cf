import { isDeepStrictEqual } from 'node:util';
import { SyntheticDataset } from '../../../src/simulation/dataset';
import { normalizeNirvanaAuditLog, parseNirvanaAuditLog } from '../../../src/vendors/nirvana/normalize';
import { startNirvanaSimulator } from '../../../src/vendors/nirvana/simulator';
import { nirvanaRecord } from '../../../src/vendors/nirvana/simulator-data';
import { nirvanaExpectedEvent, nirvanaExpectedEvents } from '../../../src/vendors/nirvana/simulator-expected';

const SOURCE = 'nirvana-test';
const END_MS = Date.UTC(2026, 10, 1);
const REQUEST_WITHOUT_IDS = { sessionId: null, traceId: null, requestId: null, origin: null };

describe('Nirvana simulator ground truth (built apart from the normaliser)', () => {
  const small = new SyntheticDataset({ size: 60, seed: 42, endMs: END_MS });

  it('states a refused request on a key, by a user, as a whole event', () => {
    expect(nirvanaExpectedEvent(small, 25, SOURCE)).toEqual({
      sourceId: SOURCE,
      vendor: 'nirvana',
      sourceEventId: 'f769c5ae-e865-471e-a5b3-000000000019',
      action: 'api_key.deleted',
      category: 'ACCESS',
      occurredAtMs: Date.parse('2026-10-31T23:59:30.600Z'),
      actor: { sourceId: SOURCE, sourceActorId: '3ed55ace-bed1-4ab5-a641-000000000001', type: 'USER', name: 'Bob Smith', email: null },
      target: { sourceId: SOURCE, sourceTargetId: 'ff6ce5ce-188b-47a8-a1c7-000000000110', type: 'api_key', name: null },
      request: {
        clientIp: '198.51.100.161',
        userAgent: 'python-requests/2.32.3',
        httpMethod: 'DELETE',
        path: '/v1/api_keys/ff6ce5ce-188b-47a8-a1c7-000000000110',
        statusCode: 404,
        ...REQUEST_WITHOUT_IDS,
      },
      repository: null,
      details: null,
      integrity: null,
      failed: true,
      raw: {
        id: 'f769c5ae-e865-471e-a5b3-000000000019',
        action: 'api_key.deleted',
        actor: { id: '3ed55ace-bed1-4ab5-a641-000000000001', name: 'Bob Smith', type: 'user' },
        client_ip: '198.51.100.161',
        created_at: '2026-10-31T23:59:30.600Z',
        method: 'DELETE',
        path: '/v1/api_keys/ff6ce5ce-188b-47a8-a1c7-000000000110',
        status_code: 404,
        user_agent: 'python-requests/2.32.3',
        target: { id: 'ff6ce5ce-188b-47a8-a1c7-000000000110', type: 'api_key' },
      },
    });
  });

  it('states a listing as a DATA event without a target', () => {
    expect(nirvanaExpectedEvent(small, 26, SOURCE)).toEqual({
      sourceId: SOURCE,
      vendor: 'nirvana',
      sourceEventId: '481748e9-4cc2-46f5-abb9-00000000001a',
      action: 'vpc.listed',
      category: 'DATA',
      occurredAtMs: Date.parse('2026-10-31T23:59:30.600Z'),
      actor: { sourceId: SOURCE, sourceActorId: '02776863-4d8e-4284-a12f-000000000020', type: 'USER', name: 'Mateo Okafor', email: null },
      target: null,
      request: { clientIp: '198.51.100.150', userAgent: 'terraform-provider/1.9.2', httpMethod: 'GET', path: '/v1/networking/vpcs', statusCode: 200, ...REQUEST_WITHOUT_IDS },
      repository: null,
      details: null,
      integrity: null,
      failed: false,
      raw: {
        id: '481748e9-4cc2-46f5-abb9-00000000001a',
        action: 'vpc.listed',
        actor: { id: '02776863-4d8e-4284-a12f-000000000020', name: 'Mateo Okafor', type: 'user' },
        client_ip: '198.51.100.150',
        created_at: '2026-10-31T23:59:30.600Z',
        method: 'GET',
        path: '/v1/networking/vpcs',
        status_code: 200,
        user_agent: 'terraform-provider/1.9.2',
      },
    });
  });

  it('keeps the generated record itself as raw', () => {
    for (let index = 0; index < small.size; index++) expect(nirvanaExpectedEvent(small, index, SOURCE).raw).toEqual(nirvanaRecord(small, index));
  });

  it("agrees with the vendor's normaliser on every generated entry, whole event by whole event", () => {
    for (const seed of [1, 42, 20_260_801]) {
      const dataset = new SyntheticDataset({ size: 5_000, seed, endMs: END_MS });
      const expected = nirvanaExpectedEvents(dataset, SOURCE);
      for (let index = 0; index < dataset.size; index++) {
        // The record as it travels: JSON text, parsed again.
        const wire: unknown = JSON.parse(JSON.stringify(nirvanaRecord(dataset, index)));
        const normalised = normalizeNirvanaAuditLog(parseNirvanaAuditLog(wire), SOURCE);
        if (!isDeepStrictEqual(normalised, expected[index])) expect({ seed, index, event: normalised }).toEqual({ seed, index, event: expected[index] });
      }
    }
  });

  it('covers every resource and verb, both actor kinds, refused requests and listings without a target', () => {
    const events = nirvanaExpectedEvents(new SyntheticDataset({ size: 2_500, seed: 42, endMs: END_MS }), SOURCE);
    const categoryOf = new Map(events.map((event) => [event.action, event.category]));
    expect(Object.fromEntries([...categoryOf].sort(([a], [b]) => (a < b ? -1 : 1)))).toEqual({
      'api_key.created': 'ACCESS',
      'api_key.deleted': 'ACCESS',
      'api_key.listed': 'ACCESS',
      'api_key.updated': 'ACCESS',
      'firewall_rule.created': 'SECURITY',
      'firewall_rule.deleted': 'SECURITY',
      'firewall_rule.listed': 'SECURITY',
      'firewall_rule.updated': 'SECURITY',
      'project.created': 'ADMIN',
      'project.deleted': 'ADMIN',
      'project.listed': 'ADMIN',
      'project.updated': 'ADMIN',
      'user.created': 'ADMIN',
      'user.deleted': 'ADMIN',
      'user.listed': 'ADMIN',
      'user.updated': 'ADMIN',
      'vm.created': 'CONFIGURATION',
      'vm.deleted': 'CONFIGURATION',
      'vm.listed': 'DATA',
      'vm.updated': 'CONFIGURATION',
      'volume.created': 'CONFIGURATION',
      'volume.deleted': 'CONFIGURATION',
      'volume.listed': 'DATA',
      'volume.updated': 'CONFIGURATION',
      'vpc.created': 'CONFIGURATION',
      'vpc.deleted': 'CONFIGURATION',
      'vpc.listed': 'DATA',
      'vpc.updated': 'CONFIGURATION',
    });
    expect(new Set(events.map((event) => event.actor.type))).toEqual(new Set(['USER', 'API_KEY']));
    expect(new Set(events.map((event) => `${event.failed}:${event.request!.statusCode}`))).toEqual(
      new Set(['false:200', 'false:201', 'true:403', 'true:404', 'true:422']),
    );
    expect(events.every((event) => (event.target === null) === event.action.endsWith('.listed'))).toBe(true);
  });

  it('is what the running simulator gives as its expected events, oldest first', async () => {
    const simulator = await startNirvanaSimulator({ size: 300, seed: 42, endMs: END_MS });
    try {
      const expected = simulator.expectedEvents(SOURCE);
      expect(expected).toEqual(nirvanaExpectedEvents(simulator.dataset, SOURCE));
      expect(expected.map((event) => event.occurredAtMs)).toEqual(Array.from({ length: 300 }, (_, index) => simulator.dataset.timeOf(index)));
    } finally {
      await simulator.stop();
    }
  });
});
