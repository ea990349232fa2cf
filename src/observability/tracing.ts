import { ROOT_CONTEXT, SpanKind, SpanStatusCode, createTraceState, isSpanContextValid, trace, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { BasicTracerProvider, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { UpstreamCallEnd, UpstreamCallStart } from '../http/observation';
import type { Logger } from '../logger';

/** How {@link GatewayTracing.create} finds its exporter. */
export interface TracingOptions {
  /**
   * Spans go here, whatever the environment says (tests pass an `InMemorySpanExporter`); each
   * span is handed over as it ends.
   */
  exporter?: SpanExporter;
  /** Where the `OTEL_*` variables are read; default the process environment. */
  env?: NodeJS.ProcessEnv;
  /** `service.version` of the spans' resource. */
  serviceVersion?: string;
}

/** What the `OTEL_*` variables ask for. */
export type TracingPlan =
  | { enabled: false }
  | { enabled: true; serviceName: string; otlpUrl: string | null; console: boolean; resourceAttributes: Record<string, string>; warnings: string[] };

const DEFAULT_SERVICE_NAME = 'audit-gateway';
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';

/**
 * Reads the standard variables: tracing is on only when `OTEL_TRACES_EXPORTER` names `otlp` or
 * `console`, or an OTLP endpoint is set without `OTEL_TRACES_EXPORTER`; `OTEL_SDK_DISABLED=true`
 * or `OTEL_TRACES_EXPORTER=none` turns it off whatever else is set.
 */
export function tracingPlanFromEnv(env: NodeJS.ProcessEnv): TracingPlan {
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') return { enabled: false };
  const warnings: string[] = [];
  const tracesEndpoint = nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  const endpoint = nonEmpty(env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  const named = nonEmpty(env['OTEL_TRACES_EXPORTER']);
  const exporters = new Set(named === undefined ? (tracesEndpoint ?? endpoint ? ['otlp'] : []) : named.split(',').map((name) => name.trim().toLowerCase()));
  if (exporters.has('none')) return { enabled: false };
  for (const name of exporters) if (name !== 'otlp' && name !== 'console') warnings.push(`OTEL_TRACES_EXPORTER: '${name}' is not supported (otlp, console or none); ignored`);
  if (!exporters.has('otlp') && !exporters.has('console')) return { enabled: false };
  let otlpUrl: string | null = null;
  if (exporters.has('otlp')) {
    // The signal's own endpoint is used as given; the general one gets the traces path appended.
    otlpUrl = tracesEndpoint ?? `${(endpoint ?? DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
    const protocol = nonEmpty(env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) ?? nonEmpty(env['OTEL_EXPORTER_OTLP_PROTOCOL']);
    if (protocol !== undefined && protocol !== 'http/json') warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL: '${protocol}' is not supported; spans are sent as OTLP http/json`);
  }
  return {
    enabled: true,
    serviceName: nonEmpty(env['OTEL_SERVICE_NAME']) ?? DEFAULT_SERVICE_NAME,
    otlpUrl,
    console: exporters.has('console'),
    resourceAttributes: parseResourceAttributes(env['OTEL_RESOURCE_ATTRIBUTES']),
    warnings,
  };
}

/** The operation a GraphQL span stands for, as the request reports it. */
export interface OperationSpanDetails {
  name: string | null;
  type: string | null;
}

/**
 * The gateway's tracer: a provider of its own, never registered globally (several gateways may
 * share a process), with contexts passed explicitly rather than through a context manager.
 */
export class GatewayTracing {
  private constructor(
    private readonly provider: BasicTracerProvider,
    private readonly tracer: Tracer,
  ) {}

  /**
   * A tracer when `options.exporter` is given or the environment turns tracing on; otherwise null,
   * and no span is ever made. The OpenTelemetry SDK and its exporter are loaded only then: a
   * gateway without tracing never carries them.
   */
  static async create(options: TracingOptions, logger: Logger): Promise<GatewayTracing | null> {
    // A given exporter is used whatever the environment says.
    const plan = options.exporter ? null : tracingPlanFromEnv(options.env ?? process.env);
    if (plan !== null && !plan.enabled) return null;
    const [{ BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor }, { resourceFromAttributes }] = await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
    ]);
    const processors: SpanProcessor[] = [];
    let serviceName = DEFAULT_SERVICE_NAME;
    let resourceAttributes: Record<string, string> = {};
    if (options.exporter) {
      processors.push(new SimpleSpanProcessor(options.exporter));
    } else if (plan?.enabled) {
      for (const warning of plan.warnings) logger.warn(warning);
      serviceName = plan.serviceName;
      resourceAttributes = plan.resourceAttributes;
      if (plan.otlpUrl !== null) {
        const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
        // Nothing connects before the first batch of spans is due.
        processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: plan.otlpUrl })));
      }
      if (plan.console) processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
      logger.info({ otlpUrl: plan.otlpUrl, console: plan.console, serviceName }, 'tracing on (OpenTelemetry)');
    }
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        ...resourceAttributes,
        [ATTR_SERVICE_NAME]: serviceName,
        ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
      }),
      spanProcessors: processors,
    });
    return new GatewayTracing(provider, provider.getTracer('audit-gateway', options.serviceVersion));
  }

  /**
   * The span of one GraphQL request, child of the caller's span when `traceparent` (W3C Trace
   * Context) names one. Named once the operation is known.
   */
  startOperation(traceparent: string | string[] | undefined, tracestate: string | string[] | undefined): { span: Span; context: Context } {
    const remote = parseTraceparent(first(traceparent), first(tracestate));
    const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
    const span = this.tracer.startSpan('GraphQL Operation', { kind: SpanKind.SERVER }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }

  /** Names and ends a GraphQL request's span. */
  endOperation(span: Span, operation: OperationSpanDetails, outcome: { httpStatus: number; errorCodes: readonly string[] }): void {
    if (operation.name) span.updateName(operation.name);
    else if (operation.type) span.updateName(operation.type);
    if (operation.name) span.setAttribute('graphql.operation.name', operation.name);
    if (operation.type) span.setAttribute('graphql.operation.type', operation.type);
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.httpStatus);
    if (outcome.errorCodes.length > 0) span.setAttribute('audit_gateway.error_codes', [...outcome.errorCodes]);
    if (outcome.httpStatus >= 500 || outcome.errorCodes.length > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.errorCodes.join(', ') || `HTTP ${outcome.httpStatus}` });
    span.end();
  }

  /** The span of one logical upstream call, under the request's span when it has one. */
  startUpstreamCall(call: UpstreamCallStart, parent: Context | undefined): (end: UpstreamCallEnd) => void {
    const span = this.tracer.startSpan(
      `${call.method} ${call.sourceId}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'audit_gateway.source.id': call.sourceId,
          ...(call.vendor ? { 'audit_gateway.source.vendor': call.vendor } : {}),
          [ATTR_HTTP_REQUEST_METHOD]: call.method,
          [ATTR_SERVER_ADDRESS]: call.host,
          [ATTR_URL_PATH]: call.path,
        },
      },
      parent ?? ROOT_CONTEXT,
    );
    return (end) => {
      if (end.status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, end.status);
      span.setAttribute('audit_gateway.upstream.attempts', end.attempts);
      if (end.attempts > 1) span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, end.attempts - 1);
      span.setAttribute('audit_gateway.upstream.outcome', end.outcome);
      if (end.outcome !== 'OK') span.setStatus({ code: SpanStatusCode.ERROR, message: end.outcome });
      span.end();
    };
  }

  /** Sends what is buffered and stops. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/**
 * A W3C `traceparent` (and its `tracestate`), or null when absent or malformed: a bad header
 * starts a new trace rather than failing the request.
 */
export function parseTraceparent(traceparent: string | undefined, tracestate: string | undefined): SpanContext | null {
  if (traceparent === undefined) return null;
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(traceparent.trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is forbidden; version 00 has exactly four fields; later versions may add some.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  const context: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: parseInt(flags!, 16) & 1,
    isRemote: true,
    ...(tracestate ? { traceState: createTraceState(tracestate) } : {}),
  };
  return isSpanContextValid(context) ? context : null;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, values percent-encoded. */
function parseResourceAttributes(text: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      attributes[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A value that is not valid percent-encoding is left out, as the specification asks.
    }
  }
  return attributes;
}
