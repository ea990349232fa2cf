import type { Vendor } from '../models/audit-event';
import type { RunningSimulator, SimulatorStartOptions, VendorSimulator } from '../simulation/vendor-simulator';
import { startAgilicusSimulator } from './agilicus/simulator';
import { startAsanaSimulator } from './asana/simulator';
import { startComplianceAgentSimulator } from './complianceagent/simulator';
import { startNirvanaSimulator } from './nirvana/simulator';
import { startPortSimulator } from './port/simulator';

/**
 * Every vendor's simulator, for demo mode, `npm run simulators`, tests and benchmarks. Kept apart
 * from `vendorModules`: the gateway serving real sources never loads this file.
 */
export const vendorSimulators: Record<Vendor, VendorSimulator> = {
  nirvana: { vendor: 'nirvana', start: startNirvanaSimulator },
  complianceagent: { vendor: 'complianceagent', start: startComplianceAgentSimulator },
  port: { vendor: 'port', start: startPortSimulator },
  asana: { vendor: 'asana', start: startAsanaSimulator },
  agilicus: { vendor: 'agilicus', start: startAgilicusSimulator },
};

/** Starts `vendor`'s simulator. */
export function startVendorSimulator(vendor: Vendor, options: SimulatorStartOptions): Promise<RunningSimulator> {
  return vendorSimulators[vendor].start(options);
}
