import type { SourceCursorState, TraversalCursor, TraversalResume } from '../../src/connection/cursor';
import type { EventSelection, NotApplicableSource } from '../../src/connection/filter';
import { keyOf, type EventKey } from '../../src/connection/order';
import type { Paging } from '../../src/connection/paging-args';
import type { TraversalPlan } from '../../src/connection/plan';
import { retentionHorizon, toConnection, type ConnectionPage, type PageOutcome, type SourceOutcome } from '../../src/connection/to-connection';
import { ErrorCode, UpstreamError } from '../../src/errors';
import type { AuditEventModel } from '../../src/models/audit-event';
import type { Direction } from '../../src/sources/data-source';
import { windowQuery } from '../../src/sources/data-source';
import { fakeEvent } from './fake-source';

/** 2026-11-01T00:00:00Z: when the page is served. */
const NOW = 1_793_491_200_000;
const AS_OF = NOW - 1;
const DAY = 86_400_000;

const a1 = fakeEvent('alpha', 'a1', NOW - 10_000);
const b1 = fakeEvent('beta', 'b1', NOW - 20_000);
const a2 = fakeEvent('alpha', 'a2', NOW - 30_000);
const b2 = fakeEvent('beta', 'b2', NOW - 30_000);
/** Where the backward pages below turned: older than every event above. */
const P: EventKey = [NOW - 40_000, 'alpha', 'a3'];

const FORWARD: Paging = { mode: 'forward', count: 3, cursor: null, cursorArgument: 'after' };
const AFTER: Paging = { ...FORWARD, cursor: 'after-text' };
const BEFORE: Paging = { mode: 'backward', count: 2, cursor: 'before-text', cursorArgument: 'before' };

function planOf(paging: Paging, order: Direction, traversal: Direction, position: EventKey | null = null, origin: EventKey | null = null): TraversalPlan {
  return { paging, order, traversal, nowMs: NOW, asOfMs: AS_OF, position, origin, baseStates: {} };
}

function selectionOf(options: { fromMs?: number | null; notApplicable?: NotApplicableSource[]; skipped?: string[] } = {}): EventSelection {
  const sourceIds = ['alpha', 'beta'];
  return {
    sourceIds,
    skippedSourceIds: options.skipped ?? [],
    notApplicable: options.notApplicable ?? [],
    queries: new Map(sourceIds.map((id) => [id, windowQuery(options.fromMs ?? null, null)])),
    matches: () => true,
    fingerprint: 'fp',
  };
}

/** A readable stand-in for the signed codec: the cursor as JSON, counting every encode. */
function readableEncoder() {
  const encoder = {
    calls: 0,
    encode: (cursor: TraversalCursor): string => {
      encoder.calls += 1;
      return JSON.stringify(cursor);
    },
  };
  return encoder;
}

/** The text the readable encoder gives for a cursor of this page. */
function cursorText(traversal: Direction, position: EventKey | null, resume: TraversalResume): string {
  return JSON.stringify({ queryFingerprint: 'fp', snapshotMs: AS_OF, issuedAtSeconds: NOW / 1000, traversal, position, resume });
}

/** Resume from the given source states, as the runner builds it. */
function sources(states: Record<string, SourceCursorState>, origin: EventKey | null = null): TraversalResume {
  return { kind: 'sources', states, origin };
}

/** The state of a source right after `event`. */
function after(event: AuditEventModel, r: number | null): Record<string, SourceCursorState> {
  return { [event.sourceId]: { r, k: [event.occurredAtMs, event.sourceEventId] } };
}

function ok(sourceId: string, fields: Partial<SourceOutcome> = {}): SourceOutcome {
  return { sourceId, failure: null, upstreamRequests: 1, unusableRecords: 0, exhausted: false, ...fields };
}

function outcomeOf(fields: Partial<PageOutcome>): PageOutcome {
  return { listed: [], moreInTraversal: false, stoppedAt: null, tailFrom: null, sources: [ok('alpha'), ok('beta')], retentionDays: new Map(), ...fields };
}

/** The page with every lazy part read: edges with their cursor text, page info as plain values. */
function plain(page: ConnectionPage) {
  const { hasNextPage, hasPreviousPage, startCursor, endCursor } = page.pageInfo;
  return {
    ...page,
    edges: page.edges.map((edge) => ({ node: edge.node, cursor: edge.cursor() })),
    pageInfo: { hasNextPage, hasPreviousPage, startCursor, endCursor },
  };
}

function okStatus(sourceId: string, upstreamRequests = 1) {
  return { sourceId, status: 'OK', errorCode: null, upstreamRequests, unusableRecords: 0, retainedFrom: null };
}

describe('toConnection', () => {
  it('builds a forward page that continues: an edge per event, cursors after each, the end cursor after the last; only the last edge read carries the sources\' states', () => {
    const outcome = outcomeOf({
      listed: [
        { event: a1, resume: () => sources(after(a1, null)) },
        { event: b1, resume: () => sources({ ...after(a1, null), ...after(b1, null) }) },
        { event: a2, resume: () => sources({ ...after(a2, null), ...after(b1, null) }) },
      ],
      moreInTraversal: true,
      sources: [ok('alpha'), ok('beta', { upstreamRequests: 2 })],
    });
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), outcome, readableEncoder().encode);
    const c1 = `{"queryFingerprint":"fp","snapshotMs":1793491199999,"issuedAtSeconds":1793491200,"traversal":"DESC","position":[1793491190000,"alpha","a1"],"resume":{"kind":"position"}}`;
    const c3 = `{"queryFingerprint":"fp","snapshotMs":1793491199999,"issuedAtSeconds":1793491200,"traversal":"DESC","position":[1793491170000,"alpha","a2"],"resume":{"kind":"sources","states":{"alpha":{"r":null,"k":[1793491170000,"a2"]},"beta":{"r":null,"k":[1793491180000,"b1"]}},"origin":null}}`;
    expect(plain(page)).toEqual({
      edges: [
        { node: a1, cursor: c1 },
        { node: b1, cursor: cursorText('DESC', keyOf(b1), { kind: 'position' }) },
        { node: a2, cursor: c3 },
      ],
      pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: c1, endCursor: c3 },
      asOf: new Date('2026-10-31T23:59:59.999Z'),
      sourceStatuses: [okStatus('alpha'), okStatus('beta', 2)],
      errors: [],
      warnings: [],
      allSourcesFailed: false,
    });
  });

  it('ends a forward page at the end of the traversal with the cursor of its last edge and no next page', () => {
    const outcome = outcomeOf({
      listed: [{ event: b2, resume: () => sources(after(b2, 4)) }],
      sources: [ok('alpha', { exhausted: true }), ok('beta', { exhausted: true })],
    });
    const page = toConnection(planOf(AFTER, 'DESC', 'DESC'), selectionOf(), outcome, readableEncoder().encode);
    const c = cursorText('DESC', keyOf(b2), sources(after(b2, 4)));
    expect(plain(page)).toEqual({
      edges: [{ node: b2, cursor: c }],
      pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: c, endCursor: c },
      asOf: new Date(AS_OF),
      sourceStatuses: [
        { ...okStatus('alpha'), status: 'EXHAUSTED' },
        { ...okStatus('beta'), status: 'EXHAUSTED' },
      ],
      errors: [],
      warnings: [],
      allSourcesFailed: false,
    });
  });

  it('lists a backward page in the client order, its start cursor after the last event read', () => {
    // Newest first, read backwards from P: the traversal runs oldest first and turned at P.
    const outcome = outcomeOf({
      listed: [
        { event: a2, resume: () => sources(after(a2, null), P) },
        { event: b2, resume: () => sources({ ...after(a2, null), ...after(b2, null) }, P) },
      ],
      moreInTraversal: true,
    });
    const page = toConnection(planOf(BEFORE, 'DESC', 'ASC', P, P), selectionOf(), outcome, readableEncoder().encode);
    const ca2 = cursorText('ASC', keyOf(a2), { kind: 'position' });
    const cb2 = cursorText('ASC', keyOf(b2), sources({ ...after(a2, null), ...after(b2, null) }, P));
    expect(plain(page)).toEqual({
      edges: [
        { node: b2, cursor: cb2 },
        { node: a2, cursor: ca2 },
      ],
      pageInfo: { hasNextPage: true, hasPreviousPage: true, startCursor: cb2, endCursor: ca2 },
      asOf: new Date(AS_OF),
      sourceStatuses: [okStatus('alpha'), okStatus('beta')],
      errors: [],
      warnings: [],
      allSourcesFailed: false,
    });
  });

  it('says a backward page that reached the newest event has no previous page', () => {
    const outcome = outcomeOf({ listed: [{ event: a1, resume: () => sources(after(a1, 9), P) }] });
    const page = toConnection(planOf(BEFORE, 'DESC', 'ASC', P, P), selectionOf(), outcome, readableEncoder().encode);
    const c = cursorText('ASC', keyOf(a1), sources(after(a1, 9), P));
    expect(plain(page).pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: c, endCursor: c });
  });

  it('ends a page that stopped short (a source failed) at the scan position, with the failure next to the data', () => {
    const failure = new UpstreamError(ErrorCode.UpstreamUnavailable, 'beta', { httpStatus: 503 });
    const scanned = { alpha: { r: 2, k: [a1.occurredAtMs, 'a1'] as [number, string] }, beta: { r: null } };
    const outcome = outcomeOf({
      listed: [{ event: a1, resume: () => sources(after(a1, null)) }],
      moreInTraversal: true,
      stoppedAt: { position: keyOf(a1), resume: () => sources(scanned) },
      sources: [ok('alpha', { upstreamRequests: 2 }), ok('beta', { failure, upstreamRequests: 3 })],
    });
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), outcome, readableEncoder().encode);
    const edge = cursorText('DESC', keyOf(a1), sources(after(a1, null)));
    expect(plain(page)).toEqual({
      edges: [{ node: a1, cursor: edge }],
      pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: edge, endCursor: cursorText('DESC', keyOf(a1), sources(scanned)) },
      asOf: new Date(AS_OF),
      sourceStatuses: [
        okStatus('alpha', 2),
        { sourceId: 'beta', status: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE', upstreamRequests: 3, unusableRecords: 0, retainedFrom: null },
      ],
      errors: [failure],
      warnings: [],
      allSourcesFailed: false,
    });
  });

  it('puts the scan position of a backward page that stopped short in its start cursor', () => {
    const outcome = outcomeOf({
      listed: [{ event: a2, resume: () => sources(after(a2, null), P) }],
      moreInTraversal: true,
      stoppedAt: { position: keyOf(a2), resume: () => sources({ ...after(a2, 1), beta: { r: 5 } }, P) },
    });
    const page = toConnection(planOf(BEFORE, 'DESC', 'ASC', P, P), selectionOf(), outcome, readableEncoder().encode);
    expect(plain(page).pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: true,
      startCursor: cursorText('ASC', keyOf(a2), sources({ ...after(a2, 1), beta: { r: 5 } }, P)),
      endCursor: cursorText('ASC', keyOf(a2), sources(after(a2, null), P)),
    });
  });

  it('says every source failed only when all did and nothing was listed, and still gives a cursor to retry from', () => {
    const failures = [new UpstreamError(ErrorCode.UpstreamTimeout, 'alpha'), new UpstreamError(ErrorCode.UpstreamAuthFailed, 'beta', { httpStatus: 401 })];
    const outcome = outcomeOf({
      moreInTraversal: true,
      stoppedAt: { position: null, resume: () => sources({}) },
      sources: [ok('alpha', { failure: failures[0]! }), ok('beta', { failure: failures[1]! })],
    });
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), outcome, readableEncoder().encode);
    expect(plain(page)).toEqual({
      edges: [],
      pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: cursorText('DESC', null, sources({})) },
      asOf: new Date(AS_OF),
      sourceStatuses: [
        { sourceId: 'alpha', status: 'FAILED', errorCode: 'UPSTREAM_TIMEOUT', upstreamRequests: 1, unusableRecords: 0, retainedFrom: null },
        { sourceId: 'beta', status: 'FAILED', errorCode: 'UPSTREAM_AUTH_FAILED', upstreamRequests: 1, unusableRecords: 0, retainedFrom: null },
      ],
      errors: failures,
      warnings: [],
      allSourcesFailed: true,
    });

    const withEdge = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), { ...outcome, listed: [{ event: a1, resume: () => sources({}) }] }, readableEncoder().encode);
    expect(withEdge.allSourcesFailed).toBe(false);
  });

  it('ends the last page of an oldest-first traversal with a tail cursor from its last edge', () => {
    const outcome = outcomeOf({
      listed: [
        { event: b1, resume: () => sources(after(b1, 7)) },
        { event: a1, resume: () => sources({ ...after(b1, 7), ...after(a1, 3) }) },
      ],
      tailFrom: { position: keyOf(a1) },
      sources: [ok('alpha', { exhausted: true }), ok('beta', { exhausted: true })],
    });
    const page = toConnection(planOf(AFTER, 'ASC', 'ASC', P), selectionOf(), outcome, readableEncoder().encode);
    const start = cursorText('ASC', keyOf(b1), { kind: 'position' });
    expect(plain(page)).toEqual({
      edges: [
        { node: b1, cursor: start },
        { node: a1, cursor: cursorText('ASC', keyOf(a1), sources({ ...after(b1, 7), ...after(a1, 3) })) },
      ],
      pageInfo: {
        hasNextPage: false,
        hasPreviousPage: true,
        startCursor: start,
        endCursor: '{"queryFingerprint":"fp","snapshotMs":1793491199999,"issuedAtSeconds":1793491200,"traversal":"ASC","position":[1793491190000,"alpha","a1"],"resume":{"kind":"tail"}}',
      },
      asOf: new Date(AS_OF),
      sourceStatuses: [
        { ...okStatus('alpha'), status: 'EXHAUSTED' },
        { ...okStatus('beta'), status: 'EXHAUSTED' },
      ],
      errors: [],
      warnings: [],
      allSourcesFailed: false,
    });
  });

  it('gives an empty tail page no start cursor and a tail cursor from where the traversal stood', () => {
    const outcome = outcomeOf({ tailFrom: { position: P } });
    const page = toConnection(planOf(AFTER, 'ASC', 'ASC', P), selectionOf(), outcome, readableEncoder().encode);
    expect(plain(page).pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: cursorText('ASC', P, { kind: 'tail' }) });
    expect(page.edges).toEqual([]);
  });

  it('gives an empty page that is not a tail no cursors at all', () => {
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), outcomeOf({}), readableEncoder().encode);
    expect(plain(page).pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('warns of each source whose retention cuts the window, and says from when in its status', () => {
    const outcome = outcomeOf({
      sources: [ok('alpha'), ok('beta')],
      retentionDays: new Map([
        ['alpha', 90],
        ['beta', 365],
      ]),
    });
    // The window starts on 2026-01-01: alpha keeps 90 days, beta 365.
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf({ fromMs: Date.UTC(2026, 0, 1) }), outcome, readableEncoder().encode);
    expect(plain(page)).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      asOf: new Date(AS_OF),
      sourceStatuses: [{ ...okStatus('alpha'), retainedFrom: new Date('2026-08-02T23:59:59.999Z') }, okStatus('beta')],
      errors: [],
      warnings: [
        {
          code: 'SOURCE_RETENTION_EXCEEDED',
          message: "source 'alpha' keeps events only since 2026-08-02T23:59:59.999Z: the window starts earlier, and older events cannot be listed",
          source: 'alpha',
          retainedFrom: '2026-08-02T23:59:59.999Z',
        },
      ],
      allSourcesFailed: false,
    });
  });

  it('warns of no retention for a window without a start, or a source that keeps everything', () => {
    const retentionDays = new Map<string, number | null>([
      ['alpha', 1],
      ['beta', null],
    ]);
    const open = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), outcomeOf({ retentionDays }), readableEncoder().encode);
    const early = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf({ fromMs: 0 }), outcomeOf({ retentionDays: new Map([['beta', null]]) }), readableEncoder().encode);
    for (const page of [open, early]) {
      expect({ warnings: page.warnings, statuses: page.sourceStatuses }).toEqual({ warnings: [], statuses: [okStatus('alpha'), okStatus('beta')] });
    }
  });

  it('lists sources that were not read as NOT_APPLICABLE (with a warning naming the fields) and SKIPPED, sorted by id', () => {
    const selection = selectionOf({ notApplicable: [{ sourceId: 'delta', fields: ['filter.actorEmails', 'filter.sessionIds'] }], skipped: ['charlie'] });
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selection, outcomeOf({}), readableEncoder().encode);
    expect({ statuses: page.sourceStatuses, warnings: page.warnings }).toEqual({
      statuses: [
        okStatus('alpha'),
        okStatus('beta'),
        { sourceId: 'charlie', status: 'SKIPPED', errorCode: null, upstreamRequests: 0, unusableRecords: 0, retainedFrom: null },
        { sourceId: 'delta', status: 'NOT_APPLICABLE', errorCode: null, upstreamRequests: 0, unusableRecords: 0, retainedFrom: null },
      ],
      warnings: [
        {
          code: 'FILTER_NOT_APPLICABLE',
          message: "source 'delta' records nothing that filter.actorEmails, filter.sessionIds can match, so none of its events match this filter; it was not read",
          source: 'delta',
          fields: ['filter.actorEmails', 'filter.sessionIds'],
        },
      ],
    });
  });

  it('counts records left out as unusable in the status and in a warning per source', () => {
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), outcomeOf({ sources: [ok('alpha'), ok('beta', { unusableRecords: 3 })] }), readableEncoder().encode);
    expect({ statuses: page.sourceStatuses, warnings: page.warnings }).toEqual({
      statuses: [okStatus('alpha'), { ...okStatus('beta'), unusableRecords: 3 }],
      warnings: [
        {
          code: 'UNUSABLE_RECORDS',
          message: "source 'beta' sent 3 record(s) the gateway could not place (without a usable time or identity, or out of order behind events already listed); they were left out of this page",
          source: 'beta',
          count: 3,
        },
      ],
    });
  });

  it('orders warnings: not applicable, then unusable records, then retention', () => {
    const selection = selectionOf({ fromMs: Date.UTC(2026, 0, 1), notApplicable: [{ sourceId: 'delta', fields: ['filter.traceIds'] }] });
    const outcome = outcomeOf({ sources: [ok('alpha'), ok('beta', { unusableRecords: 1 })], retentionDays: new Map([['alpha', 90]]) });
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selection, outcome, readableEncoder().encode);
    expect(page.warnings.map((warning) => [warning.code, warning.source])).toEqual([
      ['FILTER_NOT_APPLICABLE', 'delta'],
      ['UNUSABLE_RECORDS', 'beta'],
      ['SOURCE_RETENTION_EXCEEDED', 'alpha'],
    ]);
  });

  it('encodes a cursor only when it is read, and each only once', () => {
    const encoder = readableEncoder();
    let resumes = 0;
    const outcome = outcomeOf({
      listed: [a1, b1, a2].map((event) => ({ event, resume: () => (resumes++, sources(after(event, null))) })),
      moreInTraversal: true,
    });
    const page = toConnection(planOf(FORWARD, 'DESC', 'DESC'), selectionOf(), outcome, encoder.encode);
    expect({ encoded: encoder.calls, resumes }).toEqual({ encoded: 0, resumes: 0 });
    const end = page.pageInfo.endCursor;
    expect(page.pageInfo.endCursor).toBe(end);
    expect(page.edges[2]!.cursor()).toBe(end);
    expect({ encoded: encoder.calls, resumes }).toEqual({ encoded: 1, resumes: 1 });
  });
});

describe('retentionHorizon', () => {
  it('is the oldest instant kept when the window starts before it, else null', () => {
    expect(retentionHorizon(90, Date.UTC(2026, 0, 1), AS_OF)).toBe(AS_OF - 90 * DAY);
    expect(retentionHorizon(90, AS_OF - 90 * DAY, AS_OF)).toBeNull();
    expect(retentionHorizon(90, AS_OF - 90 * DAY - 1, AS_OF)).toBe(AS_OF - 90 * DAY);
    expect(retentionHorizon(null, 0, AS_OF)).toBeNull();
    expect(retentionHorizon(90, null, AS_OF)).toBeNull();
  });
});
