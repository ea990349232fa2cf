import { createGatewayCaches } from '../../src/connection/caches';
import { CursorCodec } from '../../src/connection/cursor';
import { loadEventConnection, type EventConnectionDeps } from '../../src/connection/events-connection';
import { encodeGlobalId } from '../../src/connection/global-id';
import { createNestedConnectionLoader } from '../../src/connection/nested-connections';
import type { AuditEventModel } from '../../src/models/audit-event';
import { FakeDataSource, fakeEvent, registryOf } from './fake-source';

/** An event of `sourceId` by the actor whose vendor id is `actorId`. */
function eventBy(sourceId: string, index: number, actorId: string): AuditEventModel {
  const event = fakeEvent(sourceId, `${sourceId}-${index}`, 1_000_000 + index * 10);
  return { ...event, actor: { ...event.actor, sourceActorId: actorId } };
}

const actorId = (sourceId: string, vendorId: string) => encodeGlobalId({ type: 'Actor', sourceId, actorKey: vendorId });

/** Engine dependencies over `sources`, with caches of their own. */
function depsOver(sources: FakeDataSource[]): EventConnectionDeps {
  return {
    sources: registryOf(sources),
    cursors: new CursorCodec({ secret: 'x'.repeat(32), ttlSeconds: 3600 }),
    caches: createGatewayCaches(),
    scanBudgetRequests: 100,
    settleWindowMs: 0,
    cursorScope: '',
    signal: AbortSignal.timeout(10_000),
  };
}

function setup() {
  // `busy` acts in every event of its source; `rare` only in the oldest of the other, so its
  // source must be read to the end to fill its page.
  const common = new FakeDataSource('common', Array.from({ length: 1000 }, (_, i) => eventBy('common', i, 'busy')), () => 50);
  const sparse = new FakeDataSource('sparse', Array.from({ length: 1000 }, (_, i) => eventBy('sparse', i, i === 0 ? 'rare' : `other-${i % 7}`)), () => 50);
  const fresh = (): EventConnectionDeps => depsOver([common, sparse]);
  return { common, sparse, fresh };
}

describe('grouped first pages of nested connections', () => {
  it('read each source only as far as its own owners need, however far another source must be read', async () => {
    const { common, sparse, fresh } = setup();
    const loader = createNestedConnectionLoader(fresh());
    const [busy, rare] = await Promise.all([
      loader.load({ owner: 'actor', ownerId: actorId('common', 'busy'), args: { first: 5 } }),
      loader.load({ owner: 'actor', ownerId: actorId('sparse', 'rare'), args: { first: 5 } }),
    ]);
    expect(busy.edges).toHaveLength(5);
    expect(rare.edges).toHaveLength(1);
    expect(sparse.calls).toBeGreaterThanOrEqual(1000 / 50);
    // One batch fills the busy actor's page; reading `common` as far back in time as `sparse`
    // is read would take twenty.
    expect(common.calls).toBe(1);
  });

  it('list for each owner what its own connection lists', async () => {
    const { fresh } = setup();
    const owners = [actorId('common', 'busy'), actorId('sparse', 'rare'), actorId('sparse', 'other-3'), actorId('sparse', 'other-5')];
    const loader = createNestedConnectionLoader(fresh());
    const grouped = await Promise.all(owners.map((ownerId) => loader.load({ owner: 'actor', ownerId, args: { first: 4 } })));
    for (const [index, ownerId] of owners.entries()) {
      const alone = await loadEventConnection({ first: 4, filter: { actorIds: [ownerId] } }, fresh());
      expect(grouped[index]!.edges.map((edge) => edge.node.sourceEventId)).toEqual(alone.edges.map((edge) => edge.node.sourceEventId));
      expect(grouped[index]!.pageInfo.hasNextPage).toBe(alone.pageInfo.hasNextPage);
    }
  });
});

describe('nested first pages of a source that filters by one actor upstream', () => {
  /** Applies a single actor id itself, as a vendor's `actor_id` parameter would. */
  class ActorFilteringSource extends FakeDataSource {
    override readonly capabilities = { ...new FakeDataSource('x', [], () => 1).capabilities, nativeFilters: ['actorIds' as const] };
    readonly askedActors: Array<readonly string[] | null> = [];
    override async listEvents(request: Parameters<FakeDataSource['listEvents']>[0]) {
      this.askedActors.push(request.query.actorIds);
      const actors = request.query.actorIds;
      const result = await super.listEvents(request);
      return actors?.length === 1 ? { ...result, events: result.events.filter((event) => event.actor.sourceActorId === actors[0]) } : result;
    }
  }

  it('load each owner on its own, one small upstream read each, instead of scanning for all of them', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => eventBy('native', i, i < 3 ? `rare-${i}` : 'busy'));
    const source = new ActorFilteringSource('native', events, () => 1000);
    const loader = createNestedConnectionLoader(depsOver([source]));
    const owners = ['rare-0', 'rare-1', 'rare-2', 'busy'].map((vendorId) => actorId('native', vendorId));
    const pages = await Promise.all(owners.map((ownerId) => loader.load({ owner: 'actor', ownerId, args: { first: 5 } })));
    expect(pages.map((page) => page.edges.length)).toEqual([1, 1, 1, 5]);
    expect(pages[0]!.edges[0]!.node.sourceEventId).toBe('native-0');
    // Every read named exactly one actor: none read the log for all four.
    expect(source.askedActors.every((asked) => asked?.length === 1)).toBe(true);
  });
});
