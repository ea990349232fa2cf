import type { Vendor } from '../models/audit-event';
import type { VendorModule } from '../sources/vendor-module';
import { agilicusModule } from './agilicus';
import { asanaModule } from './asana';
import { complianceAgentModule } from './complianceagent';
import { nirvanaModule } from './nirvana';
import { portModule } from './port';

/** A vendor module with its credentials type erased, for the registry. */
export type AnyVendorModule = VendorModule<Record<string, unknown>>;

/**
 * Every vendor the gateway speaks, by config name. Adding a vendor = a folder under
 * `src/vendors/` exporting a VendorModule, plus one line here.
 */
export const vendorModules: Partial<Record<Vendor, AnyVendorModule>> = {
  nirvana: nirvanaModule,
  complianceagent: complianceAgentModule,
  port: portModule,
  asana: asanaModule,
  agilicus: agilicusModule,
};
