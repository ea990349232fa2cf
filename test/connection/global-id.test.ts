import { GenerationalCache } from '../../src/cache/generational-cache';
import { actorGlobalId, actorKey, decodeGlobalId, encodeGlobalId, eventGlobalId, type GlobalId } from '../../src/connection/global-id';
import type { ActorModel } from '../../src/models/audit-event';
import { fakeEvent } from './fake-source';

/** What decodeGlobalId threw, as the client sees it. */
function refusal(text: string): unknown {
  try {
    decodeGlobalId(text);
  } catch (error) {
    const { message, extensions } = error as { message: string; extensions: unknown };
    return { message, extensions };
  }
  return 'accepted';
}

function invalid(text: string) {
  return { message: `'${text.slice(0, 80)}' is not a valid id`, extensions: { code: 'BAD_USER_INPUT', reason: 'INVALID_ID' } };
}

/** base64url of the JSON of `value`: how an id of any shape would be written. */
function encoded(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

const IDS: Array<[GlobalId, string]> = [
  [
    { type: 'AuditEvent', sourceId: 'nirvana-main', occurredAtMs: 1_793_491_146_423, sourceEventId: '4aad77f5-8717-4e4f-a626-000000000000' },
    'WyJFIiwibmlydmFuYS1tYWluIiwxNzkzNDkxMTQ2NDIzLCI0YWFkNzdmNS04NzE3LTRlNGYtYTYyNi0wMDAwMDAwMDAwMDAiXQ',
  ],
  [{ type: 'Actor', sourceId: 'nirvana-main', actorKey: '75d0dd0f' }, 'WyJBIiwibmlydmFuYS1tYWluIiwiNzVkMGRkMGYiXQ'],
  [{ type: 'Actor', sourceId: 'port-prod', actorKey: '~SYSTEM' }, 'WyJBIiwicG9ydC1wcm9kIiwiflNZU1RFTSJd'],
  [{ type: 'Target', sourceId: 'asana', targetType: 'task', sourceTargetId: '1204' }, 'WyJUIiwiYXNhbmEiLCJ0YXNrIiwiMTIwNCJd'],
  [{ type: 'Source', sourceId: 'nirvana-main' }, 'WyJTIiwibmlydmFuYS1tYWluIl0'],
  [{ type: 'EvidenceExport', sourceId: 'ca', jobId: 'job-7' }, 'WyJYIiwiY2EiLCJqb2ItNyJd'],
];

describe('global ids', () => {
  it('encodes each type as base64url of a tagged JSON array, the same every time', () => {
    for (const [id, text] of IDS) expect({ id, text: encodeGlobalId(id) }).toEqual({ id, text });
    expect(Buffer.from(IDS[0]![1], 'base64url').toString('utf8')).toBe('["E","nirvana-main",1793491146423,"4aad77f5-8717-4e4f-a626-000000000000"]');
  });

  it('decodes each pinned encoding back to its id', () => {
    for (const [id, text] of IDS) expect({ text, id: decodeGlobalId(text) }).toEqual({ text, id });
  });

  it('round-trips ids with characters JSON and base64url must carry: quotes, slashes, unicode, NUL', () => {
    const awkward: GlobalId[] = [
      { type: 'AuditEvent', sourceId: 's', occurredAtMs: 0, sourceEventId: 'a"b\\c/d' },
      { type: 'AuditEvent', sourceId: 's', occurredAtMs: -1_000, sourceEventId: 'before 1970' },
      { type: 'Actor', sourceId: 's', actorKey: 'Müller 🦊' },
      { type: 'Target', sourceId: 's', targetType: 'a\u0000b', sourceTargetId: '+/=' },
      { type: 'Source', sourceId: 'x'.repeat(500) },
      { type: 'EvidenceExport', sourceId: 's', jobId: '[1,2]' },
    ];
    for (const id of awkward) {
      const text = encodeGlobalId(id);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeGlobalId(text)).toEqual(id);
    }
  });

  it('tells apart ids of the same value in different sources or types', () => {
    const texts = new Set([
      encodeGlobalId({ type: 'Actor', sourceId: 'a', actorKey: '123' }),
      encodeGlobalId({ type: 'Actor', sourceId: 'b', actorKey: '123' }),
      encodeGlobalId({ type: 'Source', sourceId: '123' }),
      encodeGlobalId({ type: 'EvidenceExport', sourceId: 'a', jobId: '123' }),
    ]);
    expect(texts.size).toBe(4);
  });

  it('refuses an unknown tag', () => {
    for (const text of [encoded(['Q', 'nirvana-main']), encoded(['e', 's', 5, 'id']), encoded([1, 's'])]) expect(refusal(text)).toEqual(invalid(text));
  });

  it('refuses a known tag with the wrong number of parts', () => {
    for (const parts of [['E', 's', 5], ['E', 's', 5, 'id', 'x'], ['A', 's'], ['A', 's', 'k', 'extra'], ['T', 's', 'task'], ['S'], ['S', 's', 't'], ['X', 's']]) {
      const text = encoded(parts);
      expect({ parts, refused: refusal(text) }).toEqual({ parts, refused: invalid(text) });
    }
  });

  it('refuses parts of the wrong kind: a time that is not a safe integer, an empty or non-string name', () => {
    for (const parts of [['E', 's', '5', 'id'], ['E', 's', 1.5, 'id'], ['E', 's', 2 ** 53, 'id'], ['E', 5, 5, 'id'], ['A', 's', ''], ['T', 's', '', 'id'], ['S', 5], ['S', ''], ['X', 's', null]]) {
      const text = encoded(parts);
      expect({ parts, refused: refusal(text) }).toEqual({ parts, refused: invalid(text) });
    }
  });

  it('refuses text that is not base64url of a JSON array', () => {
    for (const text of [encoded({ t: 'S', s: 'x' }), encoded('S'), encoded(null), Buffer.from('not json').toString('base64url'), 'bm90IGpzb24']) {
      expect(refusal(text)).toEqual(invalid(text));
    }
  });

  it('refuses characters outside base64url, and the empty id, before decoding', () => {
    for (const text of ['', 'WyJTIiwicyJd=', 'WyJTIiwi+yJd', 'WyJTIiwi/yJd', 'WyJT Iiwi', 'Wy\u00e9']) expect(refusal(text)).toEqual(invalid(text));
  });

  it('refuses an id over 2048 characters, even a well-formed one, quoting only its first 80', () => {
    const long = encodeGlobalId({ type: 'Source', sourceId: 'x'.repeat(1_600) });
    expect(long.length).toBeGreaterThan(2_048);
    expect(refusal(long)).toEqual({
      message: `'${long.slice(0, 80)}' is not a valid id`,
      extensions: { code: 'BAD_USER_INPUT', reason: 'INVALID_ID' },
    });
  });

  describe('actor ids', () => {
    const person: ActorModel = { sourceId: 'nirvana-main', sourceActorId: '75d0dd0f', type: 'USER', name: 'Ada', email: null };
    const system: ActorModel = { sourceId: 'port-prod', sourceActorId: null, type: 'SYSTEM', name: null, email: null };

    it("keys an actor by its vendor id, or by its kind when the vendor gives none", () => {
      expect([actorKey('75d0dd0f', 'USER'), actorKey(null, 'SYSTEM')]).toEqual(['75d0dd0f', '~SYSTEM']);
    });

    it('encodes the actor id without a cache', () => {
      expect(actorGlobalId(person)).toBe('WyJBIiwibmlydmFuYS1tYWluIiwiNzVkMGRkMGYiXQ');
      expect(actorGlobalId(system)).toBe('WyJBIiwicG9ydC1wcm9kIiwiflNZU1RFTSJd');
      expect(decodeGlobalId(actorGlobalId(system))).toEqual({ type: 'Actor', sourceId: 'port-prod', actorKey: '~SYSTEM' });
    });

    it('gives the same id with a cache, remembering it by source and key', () => {
      const known = new GenerationalCache<string, string>(100);
      expect(actorGlobalId(person, known)).toBe('WyJBIiwibmlydmFuYS1tYWluIiwiNzVkMGRkMGYiXQ');
      expect(actorGlobalId(system, known)).toBe('WyJBIiwicG9ydC1wcm9kIiwiflNZU1RFTSJd');
      expect([known.get('nirvana-main\u000075d0dd0f'), known.get('port-prod\u0000~SYSTEM'), known.size]).toEqual([
        'WyJBIiwibmlydmFuYS1tYWluIiwiNzVkMGRkMGYiXQ',
        'WyJBIiwicG9ydC1wcm9kIiwiflNZU1RFTSJd',
        2,
      ]);
    });

    it('answers from the cache without encoding again', () => {
      const known = new GenerationalCache<string, string>(100);
      known.set('nirvana-main\u000075d0dd0f', 'remembered');
      expect(actorGlobalId(person, known)).toBe('remembered');
      // The same actor of another source is another object.
      expect(actorGlobalId({ ...person, sourceId: 'nirvana-eu' }, known)).toBe(encodeGlobalId({ type: 'Actor', sourceId: 'nirvana-eu', actorKey: '75d0dd0f' }));
    });
  });

  describe('event ids', () => {
    it('encodes an event id once and keeps it on the event', () => {
      const event = fakeEvent('nirvana-main', '4aad77f5-8717-4e4f-a626-000000000000', 1_793_491_146_423);
      expect(eventGlobalId(event)).toBe(IDS[0]![1]);
      expect(event.globalId).toBe(IDS[0]![1]);
      event.globalId = 'kept';
      expect(eventGlobalId(event)).toBe('kept');
    });
  });
});
