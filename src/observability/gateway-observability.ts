import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { UpstreamObserver } from '../http/observation';
import type { Logger } from '../logger';
import { Cors, type CorsSettings } from './cors';
import { GatewayMetrics, type GaugeSources, type MetricsSettings } from './metrics';
import { ObservedRequest } from './request-log';
import type { GatewayTracing } from './tracing';

/** What {@link GatewayObservability} is made of. */
export interface ObservabilityOptions {
  metrics: MetricsSettings;
  cors: CorsSettings | null;
  /** `server.host`: where a metrics port listens unless `metrics.host` says otherwise. */
  host: string;
  logger: Logger;
  tracing: GatewayTracing | null;
  gauges: GaugeSources;
}

/**
 * Everything one gateway reports about itself: metrics (in its own registry), request-scoped
 * logs, spans, and CORS. The server asks it for an {@link ObservedRequest} per request and hands
 * its {@link upstream} observer to the datasources.
 */
export class GatewayObservability {
  readonly metrics: GatewayMetrics;
  readonly cors: Cors | null;
  readonly upstream: UpstreamObserver;
  private readonly tracing: GatewayTracing | null;
  private metricsServer: http.Server | null = null;

  constructor(private readonly options: ObservabilityOptions) {
    this.metrics = new GatewayMetrics(options.gauges);
    this.cors = options.cors ? new Cors(options.cors) : null;
    this.tracing = options.tracing;
    const { metrics, tracing } = this;
    this.upstream = {
      callStarted(call, scope) {
        const startedMs = performance.now();
        const endSpan = tracing?.startUpstreamCall(call, scope?.traceContext);
        return (end) => {
          metrics.recordUpstreamCall({ sourceId: call.sourceId, vendor: call.vendor, outcome: end.outcome, status: end.status, seconds: (performance.now() - startedMs) / 1000 });
          endSpan?.(end);
        };
      },
    };
  }

  /** Starts observing one request; its access line is written when its response ends. */
  observe(req: http.IncomingMessage, res: http.ServerResponse): ObservedRequest {
    return new ObservedRequest({ logger: this.options.logger, metrics: this.metrics, tracing: this.tracing }, req, res);
  }

  /** True when the API port serves `/metrics` (enabled, and no port of its own). */
  get onApiPort(): boolean {
    return this.options.metrics.enabled && this.options.metrics.port === null;
  }

  /** Answers a scrape. */
  async serveMetrics(res: http.ServerResponse): Promise<void> {
    const text = await this.metrics.text();
    res.writeHead(200, { 'content-type': this.metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  }

  /**
   * Listens on the metrics port when the config gives one (`portOverride` replaces it, as the
   * API's port can be); resolves with the scrape URL, or null when there is no such port.
   */
  async listenMetrics(portOverride?: number): Promise<string | null> {
    const { enabled, port, host } = this.options.metrics;
    if (!enabled || port === null) return null;
    const server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://gateway').pathname;
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not found; metrics are at /metrics\n');
        return;
      }
      this.serveMetrics(res).catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'metrics scrape failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.metricsServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(portOverride ?? port, host ?? this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shown}:${address.port}/metrics`;
  }

  /** Closes the metrics port and sends the spans still buffered. */
  async stop(): Promise<void> {
    const server = this.metricsServer;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.tracing?.shutdown();
  }
}
