import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** `server.metrics`. */
export interface MetricsSettings {
  /** Serve `/metrics`; default true. */
  enabled: boolean;
  /** A port of its own for `/metrics` (without auth); null serves it on the API port, behind the API's auth. */
  port: number | null;
  /** Interface of that port; null = `server.host`. */
  host: string | null;
}

/** What the gauges read at each scrape. */
export interface GaugeSources {
  /** HTTP requests being answered now. */
  requestsInFlight: () => number;
  /** GraphQL requests executing and waiting for a slot (admission control). */
  admission: () => { running: number; parked: number; queued: number; limit: number };
  /** Evidence export jobs by status; null without exports. */
  exportJobs: () => Record<string, number> | null;
}

/** A cache whose lookups are counted. */
interface CountedCache<Value> {
  getOrFetch(key: string, fetch: () => Promise<Value>): Promise<{ result: Value; cached: boolean }>;
}

/** Seconds; a request's deadline is 10 s by default, an upstream call's 8 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Distinct operation names kept as label values; later ones are counted as `other`. */
const MAX_OPERATION_NAMES = 100;
/** The label of an operation without a name; no GraphQL name can be it. */
export const ANONYMOUS_OPERATION = '(anonymous)';
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/**
 * The gateway's Prometheus metrics, in a registry of its own: several gateways in one process
 * (tests) never share a counter, and nothing lands in prom-client's global registry.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'operation' | 'status'>;
  private readonly requestDuration: Histogram<'route' | 'operation'>;
  private readonly upstreamCalls: Counter<'source' | 'vendor' | 'outcome' | 'status'>;
  private readonly upstreamDuration: Histogram<'source' | 'outcome'>;
  private readonly cacheLookups: Counter<'cache' | 'result'>;
  private readonly operationNames = new Set<string>();
  private processMetrics = false;

  constructor(gauges: GaugeSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'audit_gateway_requests_total',
      help: 'HTTP requests answered, by route, GraphQL operation name and HTTP status',
      labelNames: ['route', 'operation', 'status'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'audit_gateway_request_duration_seconds',
      help: 'Time from the arrival of a request to the end of its response, queueing included',
      labelNames: ['route', 'operation'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.upstreamCalls = new Counter({
      name: 'audit_gateway_upstream_calls_total',
      help: 'Logical upstream calls (retries included in one), by source, outcome code and last HTTP status',
      labelNames: ['source', 'vendor', 'outcome', 'status'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'audit_gateway_upstream_call_duration_seconds',
      help: 'Duration of logical upstream calls, retries and waits included',
      labelNames: ['source', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.cacheLookups = new Counter({
      name: 'audit_gateway_cache_lookups_total',
      help: 'Lookups of the batch and count caches: hit (stored or shared in flight) or miss (fetched upstream)',
      labelNames: ['cache', 'result'],
      registers,
    });
    new Gauge({
      name: 'audit_gateway_requests_in_flight',
      help: 'HTTP requests being answered',
      registers,
      collect() {
        this.set(gauges.requestsInFlight());
      },
    });
    new Gauge({
      name: 'audit_gateway_admission_running',
      help: 'GraphQL requests executing (at most server.admission.maxInFlight)',
      registers,
      collect() {
        this.set(gauges.admission().running);
      },
    });
    new Gauge({
      name: 'audit_gateway_admission_parked',
      help: 'Executing GraphQL requests that have only waited for upstream answers for a while: the admission limit does not count them',
      registers,
      collect() {
        this.set(gauges.admission().parked);
      },
    });
    new Gauge({
      name: 'audit_gateway_admission_limit',
      help: 'GraphQL requests that may execute at once now, parked ones aside: server.admission.maxInFlight, less while the CPU is saturated',
      registers,
      collect() {
        this.set(gauges.admission().limit);
      },
    });
    new Gauge({
      name: 'audit_gateway_admission_queued',
      help: 'GraphQL requests waiting for an execution slot (at most server.admission.maxQueued)',
      registers,
      collect() {
        this.set(gauges.admission().queued);
      },
    });
    new Gauge({
      name: 'audit_gateway_export_jobs',
      help: 'Evidence export jobs known to this gateway, by status',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = gauges.exportJobs();
        this.reset();
        if (counts) for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      },
    });
  }

  /** One answered HTTP request. */
  recordRequest(request: { route: string; operation: string | null; status: number; seconds: number }): void {
    const operation = this.operationLabel(request.operation);
    this.requests.inc({ route: request.route, operation, status: String(request.status) });
    this.requestDuration.observe({ route: request.route, operation }, request.seconds);
  }

  /** One finished logical upstream call. */
  recordUpstreamCall(call: { sourceId: string; vendor: string | undefined; outcome: string; status: number | null; seconds: number }): void {
    this.upstreamCalls.inc({ source: call.sourceId, vendor: call.vendor ?? 'unknown', outcome: call.outcome, status: call.status === null ? 'none' : String(call.status) });
    this.upstreamDuration.observe({ source: call.sourceId, outcome: call.outcome }, call.seconds);
  }

  /**
   * Counts the lookups of `cache` as `name`. The caches belong to the engine and know nothing of
   * metrics; wrapping the one method keeps it that way.
   */
  countLookups<Value>(cache: CountedCache<Value>, name: string): void {
    const lookup = cache.getOrFetch.bind(cache);
    cache.getOrFetch = async (key, fetch) => {
      const found = await lookup(key, fetch);
      this.cacheLookups.inc({ cache: name, result: found.cached ? 'hit' : 'miss' });
      return found;
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. Process metrics join at the first scrape, so that a gateway nobody scrapes runs no monitor for them. */
  async text(): Promise<string> {
    if (!this.processMetrics) {
      this.processMetrics = true;
      collectDefaultMetrics({ register: this.registry });
    }
    return this.registry.metrics();
  }

  /**
   * Operation names come from clients: only GraphQL names are kept, and only so many distinct
   * ones, so that no client can grow the series without bound.
   */
  private operationLabel(name: string | null): string {
    if (name === null || name === ANONYMOUS_OPERATION) return name ?? '';
    if (!GRAPHQL_NAME.test(name)) return 'other';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }
}
