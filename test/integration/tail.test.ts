import { vendorModules } from '../../src/vendors';
import { startTestGateway, type TestGateway } from '../helpers/gateway';

const PAGE = `query ($after: String) {
  auditEvents(first: 40, after: $after, orderBy: { direction: ASC }) {
    edges { node { sourceEventId source { sourceId } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Page {
  auditEvents: {
    edges: Array<{ node: { sourceEventId: string; source: { sourceId: string } } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const modules = Object.values(vendorModules).filter((module) => module !== undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** docs/reliability.md D2: forward paging that reached the end resumes from endCursor and picks up every new event once. */
describe(`following the merged log oldest first past its end (${modules.map((m) => m.vendor).join(', ')})`, () => {
  let setup: TestGateway;
  beforeAll(async () => {
    setup = await startTestGateway(modules.map((module, index) => ({ id: `${module.vendor}-main`, module, size: 120, seed: 41 + index })));
  });
  afterAll(async () => {
    await setup?.close();
  });

  async function follow(after: string | null): Promise<{ ids: string[]; tail: string }> {
    const ids: string[] = [];
    let cursor = after;
    for (let guard = 0; guard < 200; guard++) {
      const response = await setup.query<Page>(PAGE, { after: cursor });
      expect(response.errors).toBeUndefined();
      const connection = response.data!.auditEvents;
      ids.push(...connection.edges.map((edge) => `${edge.node.source.sourceId}/${edge.node.sourceEventId}`));
      expect(connection.pageInfo.endCursor).not.toBeNull();
      cursor = connection.pageInfo.endCursor;
      if (!connection.pageInfo.hasNextPage) return { ids, tail: cursor! };
    }
    throw new Error('traversal did not end');
  }

  const everyEvent = () =>
    [...setup.simulators.entries()].flatMap(([sourceId, simulator]) => simulator.expectedEvents(sourceId).map((event) => `${sourceId}/${event.sourceEventId}`));

  it('lists the events appended upstream after the end, each once, then nothing until more arrive', async () => {
    const start = await follow(null);
    expect(new Set(start.ids)).toEqual(new Set(everyEvent()));
    expect(start.ids).toHaveLength(everyEvent().length);

    const before = new Set(everyEvent());
    for (const simulator of setup.simulators.values()) simulator.dataset.append(7);
    await sleep(5);
    const appended = everyEvent().filter((id) => !before.has(id));
    expect(appended).toHaveLength(7 * modules.length);

    const next = await follow(start.tail);
    expect(next.ids.sort()).toEqual(appended.sort());
    await sleep(5);
    const quiet = await follow(next.tail);
    expect(quiet.ids).toEqual([]);
  });
});
