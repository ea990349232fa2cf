import type { CallOutcomeRecorder, UpstreamCircuitState } from '../http/upstream-client';

/** What the gateway last saw of one upstream; mirrors the GraphQL type `SourceHealth`. */
export interface SourceHealthModel {
  status: 'UP' | 'DOWN' | 'UNKNOWN';
  checkedAt: Date | null;
  lastErrorCode: string | null;
  /** The source's circuit breaker: OPEN while calls fail at once without reaching the upstream. */
  circuit: UpstreamCircuitState;
}

/** Records the outcome of each upstream call of one source, and the state of its circuit breaker. */
export class SourceHealthTracker implements CallOutcomeRecorder {
  private state: SourceHealthModel = { status: 'UNKNOWN', checkedAt: null, lastErrorCode: null, circuit: 'CLOSED' };

  recordSuccess(): void {
    this.state = { ...this.state, status: 'UP', checkedAt: new Date(), lastErrorCode: null };
  }

  recordFailure(code: string): void {
    this.state = { ...this.state, status: 'DOWN', checkedAt: new Date(), lastErrorCode: code };
  }

  recordCircuit(circuit: UpstreamCircuitState): void {
    this.state = { ...this.state, circuit };
  }

  snapshot(): SourceHealthModel {
    return { ...this.state };
  }
}
