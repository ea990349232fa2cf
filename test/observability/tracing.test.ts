import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { parseTraceparent, tracingPlanFromEnv } from '../../src/observability/tracing';
import { nirvanaModule } from '../../src/vendors/nirvana';
import { portModule } from '../../src/vendors/port';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { closedPort, eventually } from './helpers';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let setup: TestGateway;

  beforeAll(async () => {
    const port = await closedPort();
    setup = await startTestGateway(
      [
        { id: 'nirvana-main', module: nirvanaModule, size: 40 },
        { id: 'port-main', module: portModule, size: 40 },
        { id: 'nirvana-down', module: nirvanaModule, size: 5, baseUrl: `http://127.0.0.1:${port}` },
      ],
      {},
      { tracing: { exporter } },
    );
  }, 60_000);

  afterAll(async () => {
    await setup?.close();
  });

  beforeEach(() => exporter.reset());

  /** The operation span named `name`, once the server has ended it (after the response is sent). */
  const operationSpan = (name: string) => eventually(() => exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER && span.name === name));
  const childrenOf = (parent: ReadableSpan) => exporter.getFinishedSpans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

  it("makes a span per operation under the caller's traceparent, and a child span per upstream call", async () => {
    const response = await setup.query('query Feed { auditEvents(first: 5) { nodes { id } } }', undefined, { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` });
    expect(response.status).toBe(200);
    const operation = await operationSpan('Feed');
    expect(operation.spanContext().traceId).toBe(TRACE_ID);
    expect(operation.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(operation.attributes).toMatchObject({ 'graphql.operation.name': 'Feed', 'graphql.operation.type': 'query', 'http.response.status_code': 200, 'audit_gateway.error_codes': ['UPSTREAM_UNREACHABLE'] });
    expect(operation.status.code).toBe(SpanStatusCode.ERROR);

    const calls = childrenOf(operation);
    expect(calls.every((span) => span.kind === SpanKind.CLIENT && span.spanContext().traceId === TRACE_ID)).toBe(true);
    const bySource = (id: string) => calls.filter((span) => span.attributes['audit_gateway.source.id'] === id);
    // Every call each simulator served has its span; Port's token exchange is shared by all
    // requests and belongs to none, so it is a root of its own.
    expect(bySource('nirvana-main')).toHaveLength(setup.simulators.get('nirvana-main')!.control.stats.requests);
    expect(bySource('port-main').length).toBeGreaterThan(0);
    const [call] = bySource('nirvana-main');
    expect(call!.attributes).toMatchObject({
      'audit_gateway.source.vendor': 'nirvana',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'audit_gateway.upstream.attempts': 1,
      'audit_gateway.upstream.outcome': 'OK',
    });
    const path = String(call!.attributes['url.path']);
    expect(path).toMatch(/^\//);
    expect(path).not.toContain('?');
    expect(path).not.toContain(setup.simulators.get('nirvana-main')!.credentials['apiKey'] as string);

    const [failed] = bySource('nirvana-down');
    expect(failed!.attributes).toMatchObject({ 'audit_gateway.upstream.outcome': 'UPSTREAM_UNREACHABLE', 'audit_gateway.upstream.attempts': 1 });
    expect(failed!.attributes['http.response.status_code']).toBeUndefined();
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
  }, 30_000);

  it('starts a new trace without a traceparent, or with a malformed one', async () => {
    await setup.query('query Sources { sources { sourceId } }', undefined, { traceparent: `00-${'0'.repeat(32)}-${PARENT_SPAN_ID}-01` });
    const operation = await operationSpan('Sources');
    expect(operation.parentSpanContext).toBeUndefined();
    expect(operation.spanContext().traceId).not.toBe('0'.repeat(32));
    expect(operation.status.code).not.toBe(SpanStatusCode.ERROR);
  }, 30_000);

  it('names an anonymous operation by its type', async () => {
    await setup.query('{ sources { sourceId } }');
    const operation = await operationSpan('query');
    expect(operation.attributes['graphql.operation.name']).toBeUndefined();
  }, 30_000);
});

describe('tracing configuration', () => {
  it('is off unless an OTEL variable turns it on, and OTEL_SDK_DISABLED wins', () => {
    expect(tracingPlanFromEnv({})).toEqual({ enabled: false });
    expect(tracingPlanFromEnv({ OTEL_SERVICE_NAME: 'x' })).toEqual({ enabled: false });
    expect(tracingPlanFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ enabled: false });
    expect(tracingPlanFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ enabled: false });
  });

  it('reads the exporter, the endpoints and the service name', () => {
    expect(tracingPlanFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ enabled: true, otlpUrl: 'http://localhost:4318/v1/traces', console: false, serviceName: 'audit-gateway' });
    expect(tracingPlanFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toMatchObject({ enabled: true, otlpUrl: 'http://collector:4318/v1/traces' });
    expect(tracingPlanFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' })).toMatchObject({ otlpUrl: 'http://collector:4318/custom' });
    expect(tracingPlanFromEnv({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'audit-eu', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=sec%20ops' })).toMatchObject({
      enabled: true,
      otlpUrl: null,
      console: true,
      serviceName: 'audit-eu',
      resourceAttributes: { 'deployment.environment': 'prod', team: 'sec ops' },
    });
    expect(tracingPlanFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin,otlp' })).toMatchObject({ enabled: true, warnings: [expect.stringContaining("'zipkin' is not supported")] });
  });

  it('parses W3C traceparent and refuses malformed ones', () => {
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_SPAN_ID}-01`, 'vendor=a')).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: 1, isRemote: true });
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_SPAN_ID}-00`, undefined)).toMatchObject({ traceFlags: 0 });
    for (const bad of ['', 'garbage', `ff-${TRACE_ID}-${PARENT_SPAN_ID}-01`, `00-${TRACE_ID}-${'0'.repeat(16)}-01`, `00-${TRACE_ID.toUpperCase()}-${PARENT_SPAN_ID}-01`, `00-${TRACE_ID}-${PARENT_SPAN_ID}-01-extra`]) {
      expect(parseTraceparent(bad, undefined)).toBeNull();
    }
    // A later version may append fields.
    expect(parseTraceparent(`01-${TRACE_ID}-${PARENT_SPAN_ID}-01-extra`, undefined)).not.toBeNull();
  });
});
