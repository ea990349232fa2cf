import type { AuditEventModel } from '../../../src/models/audit-event';
import type { SearchField, SearchResultModel } from '../../../src/sources/compliance';
import { searchCandidates, type SearchCandidatesApi } from '../../../src/vendors/complianceagent/search-candidates';
import { fakeEvent } from '../../connection/fake-source';

const T0 = Date.UTC(2026, 9, 1);

/** A `/search` that answers `hits` (with a `total`), and lookups by id, recording what was asked. */
function api(hits: Array<{ id: string; at: number }>, total = hits.length) {
  const searches: Array<{ query: string; fields: SearchField; fromMs: number | null; toMs: number | null }> = [];
  const lookups: string[] = [];
  const value: SearchCandidatesApi = {
    async search(input): Promise<SearchResultModel> {
      searches.push({ query: input.query, fields: input.fields, fromMs: input.fromMs, toMs: input.toMs });
      return { hits: hits.map((hit) => ({ sourceId: 'ca', sourceEventId: hit.id, action: 'scan.started', occurredAtMs: hit.at, highlight: null, score: 1 })), total };
    },
    async findEvent(id): Promise<AuditEventModel | null> {
      lookups.push(id);
      return id === 'gone' ? null : fakeEvent('ca', id, T0);
    },
  };
  return { value, searches, lookups };
}

const signal = new AbortController().signal;
const window = { fromMs: T0, toMs: T0 + 1_000 };

describe('ComplianceAgent search candidates', () => {
  it('asks /search with the fields that cover the part, and reads each hit of the window by id', async () => {
    const upstream = api([
      { id: 'a', at: T0 + 10 },
      { id: 'b', at: T0 + 2_000 },
      { id: 'gone', at: T0 + 20 },
    ]);
    const found = await searchCandidates(upstream.value, { text: 'disk full', part: 'details', ...window }, signal);
    expect(upstream.searches).toEqual([{ query: 'disk full', fields: 'DETAILS', ...window }]);
    // A hit outside the window (an upstream that ignores it) is not read; one deleted since is dropped.
    expect(upstream.lookups).toEqual(['a', 'gone']);
    expect(found.events!.map((event) => event.sourceEventId)).toEqual(['a']);
    expect(found.upstreamRequests).toBe(3);
    await searchCandidates(upstream.value, { text: 'bob', part: 'actor', ...window }, signal);
    await searchCandidates(upstream.value, { text: 'scan.', part: 'action', ...window }, signal);
    expect(upstream.searches.map((search) => search.fields)).toEqual(['DETAILS', 'ACTOR', 'ALL']);
  });

  it('promises nothing, and asks nothing, for a part /search does not cover', async () => {
    for (const part of ['any', 'target', 'request', 'ip', 'repository'] as const) {
      const upstream = api([{ id: 'a', at: T0 }]);
      expect(await searchCandidates(upstream.value, { text: 'x', part, ...window }, signal)).toEqual({ events: null, upstreamRequests: 0 });
      expect(upstream.searches).toEqual([]);
    }
    // Entries without an event type are listed as `unknown`, a text /search never sees.
    const upstream = api([]);
    expect((await searchCandidates(upstream.value, { text: 'know', part: 'action', ...window }, signal)).events).toBeNull();
  });

  it('promises nothing when /search has more hits than it returned', async () => {
    const upstream = api([{ id: 'a', at: T0 }], 250);
    expect(await searchCandidates(upstream.value, { text: 'e', part: 'details', ...window }, signal)).toEqual({ events: null, upstreamRequests: 1 });
    expect(upstream.lookups).toEqual([]);
  });
});
