import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { defaultServerConfig, sourceConfig, type GatewayConfig, type ServerConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createGateway, type Gateway } from '../../src/server';
import type { Vendor } from '../../src/models/audit-event';
import type { RunningSimulator } from '../../src/simulation/vendor-simulator';
import { startVendorSimulator } from '../../src/vendors/simulators';

/**
 * A gateway over vendor simulators on loopback, like `test/helpers/gateway.ts`, that also keeps
 * every log line it writes (so tests can search logs for secrets, stacks and request ids) and
 * takes per-source timeouts and retry settings (so fault tests stay fast).
 */

/** One simulated source. */
export interface HarnessSource {
  id: string;
  vendor: Vendor;
  size: number;
  seed?: number;
  /** Keys merged over the generated source config (timeouts, retry, credentials, baseUrl …). */
  config?: Record<string, unknown>;
  /** Vendor-specific simulator options, e.g. the credentials it accepts (`apiKey`, `token` …). */
  simulatorOptions?: Record<string, unknown>;
}

/** A GraphQL answer as the client saw it. */
export interface Answer<Data = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as sent. */
  text: string;
  data?: Data | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
  extensions?: Record<string, unknown>;
}

export interface Harness {
  gateway: Gateway;
  config: GatewayConfig;
  simulators: Map<string, RunningSimulator>;
  /** Every line the gateway logged, as written. */
  logLines: string[];
  /** Each log line parsed as JSON (throws if a line is not one JSON object). */
  logRecords(): Array<Record<string, unknown>>;
  /** Upstream requests each simulator has answered so far, by source id. */
  upstreamCounts(): Record<string, number>;
  post<Data = unknown>(body: unknown, headers?: Record<string, string>): Promise<Answer<Data>>;
  query<Data = unknown>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<Answer<Data>>;
  /** Waits until no simulator is answering a request. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** A fixed end for the generated data sets, so that runs are reproducible. */
export const DATA_END_MS = Date.UTC(2026, 10, 1);

/** Fast upstream settings for fault tests: every deadline well inside the request deadline. */
export const FAST_UPSTREAM = {
  timeouts: { connectMs: 500, headersMs: 600, bodyMs: 600, requestMs: 1000 },
  retry: { maxRetries: 2, minDelayMs: 10, maxDelayMs: 50 },
};

export async function startHarness(specs: readonly HarnessSource[], server: Partial<ServerConfig> = {}, logLevel = 'debug'): Promise<Harness> {
  const simulators = new Map<string, RunningSimulator>();
  const sources = [];
  for (const spec of specs) {
    const simulator = await startVendorSimulator(spec.vendor, { ...spec.simulatorOptions, size: spec.size, seed: spec.seed ?? 7, endMs: DATA_END_MS });
    simulators.set(spec.id, simulator);
    sources.push(
      sourceConfig({
        id: spec.id,
        vendor: spec.vendor,
        baseUrl: simulator.baseUrl,
        allowPrivateNetwork: true,
        ...FAST_UPSTREAM,
        ...simulator.credentials,
        ...spec.config,
      }),
    );
  }
  const config: GatewayConfig = {
    server: defaultServerConfig({ cursorSecret: randomBytes(32).toString('hex'), ...server }),
    sources,
    demo: false,
  };
  const logLines: string[] = [];
  const logger = createLogger({ level: logLevel, destination: { write: (line: string) => void logLines.push(line) } });
  const gateway = await createGateway(config, { logger, port: 0 });

  const post = async <Data>(body: unknown, headers: Record<string, string> = {}): Promise<Answer<Data>> => {
    const response = await request(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.body.text();
    let parsed: Omit<Answer<Data>, 'status' | 'headers' | 'text'> = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // Left empty: the test sees `text`.
    }
    return { ...parsed, status: response.statusCode, headers: response.headers, text };
  };

  return {
    gateway,
    config,
    simulators,
    logLines,
    logRecords: () => logLines.flatMap((chunk) => chunk.split('\n').filter((line) => line.length > 0)).map((line) => JSON.parse(line) as Record<string, unknown>),
    upstreamCounts: () => Object.fromEntries([...simulators].map(([id, simulator]) => [id, simulator.control.stats.requests])),
    post,
    query: (query, variables, headers) => post({ query, variables }, headers),
    idle: async () => {
      await Promise.all([...simulators.values()].map((simulator) => simulator.control.idle()));
    },
    async close() {
      await gateway.stop(1000);
      await Promise.all([...simulators.values()].map((simulator) => simulator.stop()));
    },
  };
}

/** A stack frame as V8 writes one: `at fn (file.ts:12:3)`. */
export const STACK_LINE = /\bat \S+ \(?[^)\s]*:\d+:\d+\)?/;
