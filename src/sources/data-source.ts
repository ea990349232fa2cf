import type { ActorType, AuditEventModel, Vendor } from '../models/audit-event';
import type { JsonValue } from '../models/json';
import type {
  ComplianceHistoryOperations,
  EvidenceExportOperations,
  IntegrityVerificationOperations,
  NativeSearchOperations,
  NativeStatisticsOperations,
  RetentionPolicyOperations,
  Soc2EvidenceOperations,
} from './compliance';

/** `DESC` = newest first, `ASC` = oldest first. */
export type Direction = 'ASC' | 'DESC';

/** How an upstream pages; mirrors the GraphQL enum `PagingKind`. */
export type PagingKind = 'CURSOR' | 'PAGE_NUMBER' | 'OFFSET_TOKEN' | 'TIME_WINDOW';

/** The fields of {@link SourceQuery} a datasource may apply upstream. */
export type FilterField =
  | 'window'
  | 'actions'
  | 'actorIds'
  | 'actorEmails'
  | 'actorTypes'
  | 'targetIds'
  | 'targetTypes'
  | 'text'
  | 'clientIps'
  | 'sessionIds'
  | 'requestIds'
  | 'traceIds'
  | 'userAgents'
  | 'failed'
  | 'repositoryIds'
  | 'sourceEventIds';

/**
 * Parts of an event that some vendors never record. A filter on a part a source never records
 * cannot match any of its events, so the gateway answers for that source at once (status
 * NOT_APPLICABLE, with a warning) instead of scanning its whole log for nothing. A datasource
 * lists a part here when its normaliser can fill it in from the vendor's records.
 */
export type RecordedField = 'actorEmail' | 'clientIp' | 'userAgent' | 'sessionId' | 'requestId' | 'traceId' | 'failed' | 'repository';

/**
 * What one source is asked for, in vendor-neutral terms. The gateway always re-applies every
 * field to what a datasource returns, so a datasource may push down any subset of it (and must
 * push down nothing it cannot apply exactly, or it would lose events).
 */
export interface SourceQuery {
  /** Inclusive lower bound, ms since the epoch; null = unbounded. */
  fromMs: number | null;
  /** Exclusive upper bound, ms since the epoch; null = unbounded. */
  toMs: number | null;
  actions: readonly string[] | null;
  /** Vendor actor ids (the gateway has already decoded global ids). */
  actorIds: readonly string[] | null;
  actorEmails: readonly string[] | null;
  actorTypes: readonly ActorType[] | null;
  /** Vendor target ids. */
  targetIds: readonly string[] | null;
  targetTypes: readonly string[] | null;
  /** Lower-cased free text. */
  text: string | null;
  /**
   * Client addresses and CIDR ranges, canonical: IPv4 dotted decimal (an IPv4-mapped IPv6
   * address is given as its IPv4 form), IPv6 as RFC 5952 text, ranges as `network/prefix` with
   * the host bits cleared. An entry without `/` is one address.
   */
  clientIps: readonly string[] | null;
  /** Exact session ids. */
  sessionIds: readonly string[] | null;
  /** Exact request ids (a vendor's id of one request or one login attempt). */
  requestIds: readonly string[] | null;
  /** Exact trace (correlation) ids. */
  traceIds: readonly string[] | null;
  /** Lower-cased substrings, any of which the user agent must contain. */
  userAgents: readonly string[] | null;
  /** Only events the vendor marks failed (true) or succeeded (false); events it says nothing of never match. */
  failed: boolean | null;
  /** Vendor repository ids (ComplianceAgent). */
  repositoryIds: readonly string[] | null;
  /** Vendor event ids (`sourceEventId`). */
  sourceEventIds: readonly string[] | null;
}

/** A query of every event in `[fromMs, toMs)` (null = unbounded), with no other filter. */
export function windowQuery(fromMs: number | null, toMs: number | null): SourceQuery {
  return {
    fromMs,
    toMs,
    actions: null,
    actorIds: null,
    actorEmails: null,
    actorTypes: null,
    targetIds: null,
    targetTypes: null,
    text: null,
    clientIps: null,
    sessionIds: null,
    requestIds: null,
    traceIds: null,
    userAgents: null,
    failed: null,
    repositoryIds: null,
    sourceEventIds: null,
  };
}

/** The one value of a list, or null when it is absent or holds several (which most upstream filters cannot take). */
export function onlyValue<T>(values: readonly T[] | null): T | null {
  return values !== null && values.length === 1 ? values[0]! : null;
}

/**
 * The one IPv4 address of `query.clientIps`, or null. The only address filter a vendor is given:
 * an upstream compares address text, and IPv4 is the one family whose text has a single form
 * (IPv6 can be written many ways, and an upstream might record a client as IPv4-mapped IPv6).
 */
export function onlyIpv4Address(query: SourceQuery): string | null {
  const address = onlyValue(query.clientIps);
  return address !== null && /^[0-9.]+$/.test(address) ? address : null;
}

/**
 * A datasource's own position in its upstream, as JSON so that it fits in a signed cursor.
 * Only the datasource that produced it reads it.
 */
export type SourceResume = JsonValue;

/** One request for a batch of events. */
export interface ListEventsRequest {
  direction: Direction;
  query: SourceQuery;
  /** From a previous result's `next`; null = the start of the window in `direction`. */
  resume: SourceResume | null;
  /** Events wanted; the datasource clamps it to the vendor's page-size bounds. */
  limit: number;
  signal: AbortSignal;
}

/**
 * One batch of events.
 *
 * The contract the merge relies on: batches are monotone in time. In `DESC`, no event of a later
 * batch (reached through `next`) is newer than the oldest event of this batch; in `ASC`, no event
 * of a later batch is older than the newest of this one. Within a batch, events may come in any
 * order, and events sharing a timestamp may span batches. A batch may be empty while `next` is
 * not null (a time-window step that found nothing).
 */
export interface ListEventsResult {
  events: AuditEventModel[];
  /** Where the next batch starts; null when the window is exhausted. */
  next: SourceResume | null;
  /** Upstream HTTP requests this batch cost (auth exchanges included). */
  upstreamRequests: number;
  /**
   * Records of the upstream pages read that could not be placed (no usable time or identity):
   * left out under the record policy (see `normalizePage`), reported to the client, never silent.
   */
  unusableRecords?: number;
}

/** What a datasource can do itself. */
export interface SourceCapabilities {
  nativeOrder: Direction;
  /** True when the upstream serves both orders efficiently. */
  bothOrders: boolean;
  pagingKind: PagingKind;
  /** Smallest and largest page the upstream accepts. */
  minPageSize: number;
  maxPageSize: number;
  /** Query fields the datasource pushes down to the upstream (at least in some cases: one value, one endpoint). */
  nativeFilters: readonly FilterField[];
  /** Parts of an event this vendor's records can carry; see {@link RecordedField}. */
  recordedFields: readonly RecordedField[];
  /** True when `getEvent` is one upstream call by id rather than a narrow search. */
  getById: boolean;
  /** True when `countEvents` is available. */
  countsTotal: boolean;
  /**
   * Days the vendor keeps events, where it publishes a fixed period (Asana 90, Port 365 by
   * default); null when it does not say or each organisation sets its own. A window reaching
   * further back is answered with a warning naming the source, never silently cut.
   */
  retentionDays: number | null;
}

/** Enough to find one event again: its id and, where the id alone cannot find it, its time. */
export interface EventRef {
  sourceEventId: string;
  occurredAtMs: number;
}

/**
 * The interface every vendor implements. It hides the vendor's protocol, auth and paging; it
 * never sees GraphQL. Every method honours `signal` and throws `UpstreamError` on failure.
 */
export interface AuditDataSource {
  readonly sourceId: string;
  readonly vendor: Vendor;
  readonly displayName: string;
  readonly capabilities: SourceCapabilities;
  /** One batch of events; see {@link ListEventsResult} for the ordering contract. */
  listEvents(request: ListEventsRequest): Promise<ListEventsResult>;
  /** One event, or null when the upstream has no such event. */
  getEvent(ref: EventRef, signal: AbortSignal): Promise<AuditEventModel | null>;
  /**
   * One event by its `sourceEventId` alone, without knowing when it happened, where the vendor
   * (or the id itself) makes that a lookup rather than a scan; null when there is no such event.
   * Absent: the gateway searches the source's log within a request budget.
   */
  findEvent?(sourceEventId: string, signal: AbortSignal): Promise<AuditEventModel | null>;
  /**
   * Days the source keeps events now, where the vendor reports its own policy (cached by the
   * datasource, so asking costs no request most of the time); `capabilities.retentionDays` when
   * absent. Null when the vendor does not say.
   */
  currentRetentionDays?(signal: AbortSignal): Promise<number | null>;
  /**
   * The exact number of events matching `query`, when `capabilities.countsTotal`; null when the
   * vendor cannot say for this query. `counter.requests`, when given, grows by the upstream
   * requests the count made (statistics report them per source).
   */
  countEvents?(query: SourceQuery, signal: AbortSignal, counter?: { requests: number }): Promise<number | null>;
  // Optional operations beyond the audit log (`./compliance`): a datasource sets the member of
  // each one its vendor offers, and leaves the others out. Being present is the whole
  // capability: `Source.capabilities` reports it and the gateway asks nothing else.
  /** Evidence package jobs. */
  readonly evidenceExport?: EvidenceExportOperations;
  /** The vendor's verdict on its hash chain, and the gateway's own re-walk of it. */
  readonly integrityVerification?: IntegrityVerificationOperations;
  readonly complianceHistory?: ComplianceHistoryOperations;
  /** The vendor's whole retention policy (not only the days of `currentRetentionDays`). */
  readonly retentionPolicy?: RetentionPolicyOperations;
  readonly soc2Evidence?: Soc2EvidenceOperations;
  readonly nativeSearch?: NativeSearchOperations;
  readonly nativeStatistics?: NativeStatisticsOperations;
  /** Releases connection pools. */
  close(): Promise<void>;
}

/** The optional operations of {@link AuditDataSource}, by the name `Source.capabilities` shows them under. */
export interface SourceOperations {
  evidenceExport: EvidenceExportOperations;
  integrityVerification: IntegrityVerificationOperations;
  complianceHistory: ComplianceHistoryOperations;
  retentionPolicy: RetentionPolicyOperations;
  soc2Evidence: Soc2EvidenceOperations;
  nativeSearch: NativeSearchOperations;
  nativeStatistics: NativeStatisticsOperations;
}

export type SourceOperation = keyof SourceOperations;

/** Every optional operation, in the order `Source.capabilities` lists them. */
export const SOURCE_OPERATIONS: readonly SourceOperation[] = [
  'evidenceExport',
  'integrityVerification',
  'complianceHistory',
  'retentionPolicy',
  'soc2Evidence',
  'nativeSearch',
  'nativeStatistics',
];

/** `operation` of `dataSource`, or undefined when its vendor does not offer it. */
export function operationOf<K extends SourceOperation>(dataSource: AuditDataSource, operation: K): SourceOperations[K] | undefined {
  return (dataSource as Partial<SourceOperations>)[operation];
}

/** Which optional operations `dataSource` offers. */
export function offeredOperations(dataSource: AuditDataSource): Record<SourceOperation, boolean> {
  const offered = {} as Record<SourceOperation, boolean>;
  for (const operation of SOURCE_OPERATIONS) offered[operation] = operationOf(dataSource, operation) !== undefined;
  return offered;
}

/** What `Source.capabilities` shows: the datasource's capabilities, its retention now, and which optional operations it offers. */
export type SourceCapabilitiesView = SourceCapabilities & Record<SourceOperation, boolean>;

/** Days `dataSource` keeps events now: the vendor's own policy where it reports one, else its fixed capability. */
export async function retentionDaysOf(dataSource: AuditDataSource, signal: AbortSignal): Promise<number | null> {
  return dataSource.currentRetentionDays ? dataSource.currentRetentionDays(signal) : dataSource.capabilities.retentionDays;
}
