/** What the gateway last saw of one upstream; mirrors the GraphQL type `SourceHealth`. */
export interface SourceHealthModel {
  status: 'UP' | 'DOWN' | 'UNKNOWN';
  checkedAt: Date | null;
  lastErrorCode: string | null;
}

/** Records the outcome of each upstream call of one source. */
export class SourceHealthTracker {
  private state: SourceHealthModel = { status: 'UNKNOWN', checkedAt: null, lastErrorCode: null };

  recordSuccess(): void {
    this.state = { status: 'UP', checkedAt: new Date(), lastErrorCode: null };
  }

  recordFailure(code: string): void {
    this.state = { status: 'DOWN', checkedAt: new Date(), lastErrorCode: code };
  }

  snapshot(): SourceHealthModel {
    return { ...this.state };
  }
}
