import fc from 'fast-check';
import { GatewayError } from '../../src/errors';
import { selectEvents, type EventFilterInput, type FilterableSource } from '../../src/connection/filter';
import { canonicalIpOrRange } from '../../src/sources/ip-ranges';
import { emptyRequestContext, type AuditEventModel, type RequestContextModel } from '../../src/models/audit-event';
import type { RecordedField } from '../../src/sources/data-source';
import { fakeEvent } from './fake-source';

const EVERYTHING: RecordedField[] = ['actorEmail', 'clientIp', 'userAgent', 'sessionId', 'requestId', 'traceId', 'failed', 'repository'];
const SOURCES: FilterableSource[] = [
  { id: 'full', recordedFields: EVERYTHING },
  { id: 'bare', recordedFields: ['failed'] },
];

function withRequest(id: string, request: Partial<RequestContextModel>, extra: Partial<AuditEventModel> = {}): AuditEventModel {
  return { ...fakeEvent('full', id, 1_000), request: { ...emptyRequestContext(), ...request }, ...extra };
}

function matching(filter: EventFilterInput, events: readonly AuditEventModel[]): string[] {
  const selection = selectEvents(filter, SOURCES, 'DESC');
  return events.filter(selection.matches).map((event) => event.sourceEventId);
}

function refusal(filter: EventFilterInput): { field: unknown; reason: unknown; message: string } {
  try {
    selectEvents(filter, SOURCES, 'DESC');
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { field: error.extensions['field'], reason: error.extensions['reason'], message: error.message };
  }
  throw new Error('filter was accepted');
}

describe('clientIps', () => {
  const events = [
    withRequest('v4', { clientIp: '192.0.2.7' }),
    withRequest('mapped', { clientIp: '::ffff:192.0.2.8' }),
    withRequest('v6', { clientIp: '2001:DB8:0:0:0:0:0:5' }),
    withRequest('other', { clientIp: '198.51.100.1' }),
    withRequest('hostname', { clientIp: 'proxy.internal' }),
    withRequest('none', {}),
  ];

  it('matches addresses as addresses: IPv4-mapped IPv6 is its IPv4 form, IPv6 in any spelling', () => {
    expect(matching({ clientIps: ['192.0.2.7'] }, events)).toEqual(['v4']);
    expect(matching({ clientIps: ['192.0.2.8'] }, events)).toEqual(['mapped']);
    expect(matching({ clientIps: ['::ffff:192.0.2.7'] }, events)).toEqual(['v4']);
    expect(matching({ clientIps: ['2001:db8::5'] }, events)).toEqual(['v6']);
  });

  it('matches CIDR ranges of both families, and any value of the list', () => {
    expect(matching({ clientIps: ['192.0.2.0/24'] }, events)).toEqual(['v4', 'mapped']);
    expect(matching({ clientIps: ['2001:db8::/32', '198.51.100.0/31'] }, events)).toEqual(['v6', 'other']);
    expect(matching({ clientIps: ['0.0.0.0/0'] }, events)).toEqual(['v4', 'mapped', 'other']);
  });

  it('never matches an event without an address, or with one that is not an IP', () => {
    expect(matching({ clientIps: ['0.0.0.0/0', '::/0'] }, events)).not.toContain('hostname');
    expect(matching({ clientIps: ['0.0.0.0/0', '::/0'] }, events)).not.toContain('none');
  });

  it('refuses anything but an address or a range, naming the value by its index', () => {
    for (const bad of ['192.0.2', '01.2.3.4', '192.0.2.1/33', '2001:db8::/129', 'fe80::1%eth0', 'example.com', '1.2.3.4/']) {
      expect(refusal({ clientIps: ['192.0.2.1', bad] })).toMatchObject({ field: 'filter.clientIps[1]', reason: 'INVALID_FILTER' });
    }
  });

  it('gives every spelling of a range one canonical form (and so one cursor fingerprint)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        const canonical = canonicalIpOrRange(`${address}/${prefix}`);
        expect(canonical).not.toBeNull();
        expect(canonicalIpOrRange(canonical!)).toBe(canonical);
        expect(canonicalIpOrRange(`::ffff:${address}/${prefix + 96}`)).toBe(canonical);
      }),
    );
    expect(selectEvents({ clientIps: ['192.0.2.77/24'] }, SOURCES, 'DESC').fingerprint).toBe(selectEvents({ clientIps: ['192.0.2.0/24'] }, SOURCES, 'DESC').fingerprint);
  });
});

describe('request, outcome and repository filters', () => {
  const events = [
    withRequest('a', { sessionId: 's1', requestId: 'r1', traceId: 't1', userAgent: 'Mozilla/5.0 (X11)' }, { failed: true }),
    withRequest('b', { sessionId: 's2', requestId: 'r2', traceId: 't2', userAgent: 'curl/8.5.0' }, { failed: false, repository: { sourceRepositoryId: 'repo_1', name: 'acme/api' } }),
    withRequest('c', {}, { failed: null, repository: { sourceRepositoryId: 'repo_2', name: null } }),
  ];

  it('matches ids exactly, user agents by case-insensitive part, and failed only where the vendor says', () => {
    expect(matching({ sessionIds: ['s2', 'zz'] }, events)).toEqual(['b']);
    expect(matching({ requestIds: ['r1'] }, events)).toEqual(['a']);
    expect(matching({ traceIds: ['T1'] }, events)).toEqual([]);
    expect(matching({ userAgents: ['CURL/', 'python'] }, events)).toEqual(['b']);
    expect(matching({ failed: true }, events)).toEqual(['a']);
    expect(matching({ failed: false }, events)).toEqual(['b']);
    expect(matching({ repositoryIds: ['repo_2'] }, events)).toEqual(['c']);
    expect(matching({ sourceEventIds: ['c', 'a'] }, events)).toEqual(['a', 'c']);
  });

  it('finds free text in the request and the repository', () => {
    expect(matching({ text: 'x11' }, events)).toEqual(['a']);
    expect(matching({ text: 'acme/api' }, events)).toEqual(['b']);
    expect(matching({ text: 'repo_2' }, events)).toEqual(['c']);
  });

  it('refuses empty lists and over-long values, naming the argument path', () => {
    expect(refusal({ sessionIds: [] })).toMatchObject({ field: 'filter.sessionIds', reason: 'INVALID_FILTER' });
    expect(refusal({ userAgents: ['ok', 'x'.repeat(257)] })).toMatchObject({ field: 'filter.userAgents[1]', reason: 'INVALID_FILTER' });
    expect(refusal({ traceIds: ['t\u0000'] })).toMatchObject({ field: 'filter.traceIds[0]' });
    expect(refusal({ repositoryIds: Array.from({ length: 101 }, (_, i) => `r${i}`) })).toMatchObject({ field: 'filter.repositoryIds' });
  });
});

describe('sources whose records never carry what a filter asks about', () => {
  it('are left out as not applicable, naming the fields, instead of being read', () => {
    const selection = selectEvents({ actorEmails: ['a@example.com'], failed: true }, SOURCES, 'DESC');
    expect(selection.sourceIds).toEqual(['full']);
    expect(selection.notApplicable).toEqual([{ sourceId: 'bare', fields: ['filter.actorEmails'] }]);
  });

  it('reads a source for a filter on something it records', () => {
    const selection = selectEvents({ failed: false }, SOURCES, 'DESC');
    expect(selection.sourceIds).toEqual(['bare', 'full']);
    expect(selection.notApplicable).toEqual([]);
  });
});
