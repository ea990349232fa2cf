import type { AuditDataSource, RecordedField } from './data-source';
import type { SourceHealthTracker } from './health';
import type { BaseSourceConfig } from './vendor-module';

/** A configured source: its datasource and what the gateway saw of it. */
export interface RegisteredSource {
  /** The source's config: the common keys and its vendor's own. */
  config: BaseSourceConfig & Record<string, unknown>;
  dataSource: AuditDataSource;
  health: SourceHealthTracker;
}

/** Every configured source by id, built once at start-up by the composition root (`server.ts`). */
export class SourceRegistry {
  private readonly byId: Map<string, RegisteredSource>;

  constructor(sources: readonly RegisteredSource[]) {
    this.byId = new Map(sources.map((source) => [source.config.id, source]));
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }

  get all(): RegisteredSource[] {
    return [...this.byId.values()];
  }

  /** Each source's id and what its records can carry, as filters check them. */
  get filterable(): Array<{ id: string; recordedFields: readonly RecordedField[] }> {
    return this.all.map((source) => ({ id: source.config.id, recordedFields: source.dataSource.capabilities.recordedFields }));
  }

  /**
   * The sources one caller may read: every path of a request (listing, lookups by id, nested
   * connections, source fields) goes through the request's registry, so a source outside it does
   * not exist for that caller, and no upstream of it is asked.
   */
  scopedTo(allowed: '*' | ReadonlySet<string>): SourceRegistry {
    return allowed === '*' ? this : new SourceRegistry(this.all.filter((source) => allowed.has(source.config.id)));
  }

  get(sourceId: string): RegisteredSource | undefined {
    return this.byId.get(sourceId);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((source) => source.dataSource.close()));
  }
}
