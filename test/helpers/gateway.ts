import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { request } from 'undici';
import { defaultServerConfig, sourceConfig, type GatewayConfig, type ServerConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server';
import type { VendorModule } from '../../src/sources/vendor-module';
import type { RunningSimulator } from '../../src/simulation/vendor-simulator';
import { startVendorSimulator } from '../../src/vendors/simulators';

/** A GraphQL response as JSON. */
export interface GraphQLResponse<Data = Record<string, unknown>> {
  data?: Data | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

/** One simulated source of a test gateway. */
export interface TestSourceSpec {
  id: string;
  module: VendorModule<Record<string, unknown>>;
  size: number;
  seed?: number;
  endMs?: number;
  /** Credentials to configure instead of the simulator's (e.g. a wrong key). */
  credentials?: Record<string, string>;
  /** Point the source at this URL instead of its simulator (e.g. a closed port). */
  baseUrl?: string;
  /** Vendor-specific simulator options (e.g. Nirvana's `legacyApi`). */
  simulatorOptions?: Record<string, unknown>;
}

export interface TestGateway {
  gateway: Gateway;
  simulators: Map<string, RunningSimulator>;
  config: GatewayConfig;
  /** POSTs a GraphQL request to the gateway over loopback HTTP, with `headers` (e.g. authorization) if given. */
  query<Data = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<Data> & { status: number; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Options of a test gateway beyond its server config. */
export interface TestGatewayOptions {
  /** Where the gateway's log lines go (at level `info`), for tests that read the log. */
  logDestination?: DestinationStream;
  /** Evidence-export timings to shorten (retry delays, the expiry sweep). */
  exportTimings?: GatewayOptions['exportTimings'];
  /** Tracing of the gateway (an in-memory exporter, say); none by default. */
  tracing?: GatewayOptions['tracing'];
}

/** Starts simulators and a gateway over them on free loopback ports. */
export async function startTestGateway(specs: readonly TestSourceSpec[], server: Partial<ServerConfig> = {}, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const simulators = new Map<string, RunningSimulator>();
  const sources = [];
  for (const spec of specs) {
    const simulator = await startVendorSimulator(spec.module.vendor, {
      ...spec.simulatorOptions,
      size: spec.size,
      seed: spec.seed ?? 7,
      ...(spec.endMs !== undefined ? { endMs: spec.endMs } : { endMs: Date.UTC(2026, 10, 1) }),
    });
    simulators.set(spec.id, simulator);
    sources.push(
      sourceConfig({
        id: spec.id,
        vendor: spec.module.vendor,
        baseUrl: spec.baseUrl ?? simulator.baseUrl,
        allowPrivateNetwork: true,
        retry: { maxRetries: 2, minDelayMs: 10, maxDelayMs: 50 },
        ...simulator.credentials,
        ...spec.credentials,
      }),
    );
  }
  const config: GatewayConfig = {
    server: defaultServerConfig({ cursorSecret: randomBytes(32).toString('hex'), ...server }),
    sources,
    demo: false,
  };
  // Silent unless TEST_LOG_LEVEL asks for the gateway's log (e.g. `error` to see a masked error).
  const logger = options.logDestination ? createLogger({ level: 'info', destination: options.logDestination }) : createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const gateway = await createGateway(config, {
    logger,
    port: 0,
    ...(options.exportTimings ? { exportTimings: options.exportTimings } : {}),
    // Tests never trace through the process environment: a test that traces passes its exporter.
    tracing: options.tracing ?? { env: {} },
  });
  return {
    gateway,
    simulators,
    config,
    async query<Data>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
      const response = await request(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.body.json()) as GraphQLResponse<Data>;
      return { ...body, status: response.statusCode, headers: response.headers };
    },
    async close() {
      await gateway.stop(1000);
      await Promise.all([...simulators.values()].map((simulator) => simulator.stop()));
    },
  };
}
