import { vendorModules } from '../../src/vendors';
import { startVendorSimulator } from '../../src/vendors/simulators';

/** Bytes held by the process that a simulator's data set can grow: JS heap plus typed arrays. */
function held(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe('simulators hold about 100 bytes an event or less', () => {
  for (const module of Object.values(vendorModules)) {
    if (!module) continue;
    it(`${module.vendor} with 1,000,000 events`, async () => {
      const before = held();
      const simulator = await startVendorSimulator(module.vendor, { size: 1_000_000, seed: 3 });
      try {
        const perEvent = (held() - before) / 1_000_000;
        expect(simulator.dataset.size).toBeGreaterThanOrEqual(1_000_000);
        expect(perEvent).toBeLessThan(100);
      } finally {
        await simulator.stop();
      }
    }, 60_000);
  }
});
