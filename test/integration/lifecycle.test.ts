import { request } from 'undici';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { startTestGateway } from '../helpers/gateway';

describe('gateway lifecycle', () => {
  it('lets in-flight requests finish on stop and refuses new ones', async () => {
    const setup = await startTestGateway([{ id: 'nirvana-main', module: nirvanaModule, size: 50 }]);
    const simulator = setup.simulators.get('nirvana-main')!;
    simulator.control.knobs.latencyMs = 400;
    try {
      const inFlight = setup.query<{ auditEvents: { edges: unknown[] } }>('{ auditEvents(first: 5) { edges { cursor } } }');
      // In flight for sure once its upstream call has reached the simulator (a fixed sleep is a
      // race on a loaded machine: a request not yet read when the stop begins is cut, not drained).
      while (simulator.control.stats.requests === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const stopping = setup.gateway.stop(5000);
      const late = await request(setup.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ sources { sourceId } }"}' })
        .then((response) => response.statusCode)
        .catch((error: { code?: string }) => error.code);
      const finished = await inFlight;
      await stopping;
      expect(finished.status).toBe(200);
      expect(finished.data!.auditEvents.edges).toHaveLength(5);
      expect([503, 'ECONNREFUSED', 'UND_ERR_SOCKET']).toContain(late);
    } finally {
      await simulator.stop();
    }
  });
});
