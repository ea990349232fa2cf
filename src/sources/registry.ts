import type { Logger } from '../logger';
import type { SourceConfig } from '../config';
import { vendorModules } from '../vendors';
import type { AuditDataSource, RecordedField } from './data-source';
import { SourceHealthTracker } from './health';

/** A configured source: its datasource and what the gateway saw of it. */
export interface RegisteredSource {
  config: SourceConfig;
  dataSource: AuditDataSource;
  health: SourceHealthTracker;
}

/** Every configured source by id, built once at start-up. */
export class SourceRegistry {
  private readonly byId: Map<string, RegisteredSource>;

  constructor(sources: readonly RegisteredSource[]) {
    this.byId = new Map(sources.map((source) => [source.config.id, source]));
  }

  /** Builds each source's datasource from its vendor module. */
  static fromConfig(configs: readonly SourceConfig[], logger: Logger): SourceRegistry {
    return new SourceRegistry(
      configs.map((config) => {
        const module = vendorModules[config.vendor];
        if (!module) throw new Error(`no vendor module for '${config.vendor}'`);
        const health = new SourceHealthTracker();
        const dataSource = module.createDataSource(config, { logger: logger.child({ source: config.id }), health });
        return { config, dataSource, health };
      }),
    );
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

  get(sourceId: string): RegisteredSource | undefined {
    return this.byId.get(sourceId);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((source) => source.dataSource.close()));
  }
}
