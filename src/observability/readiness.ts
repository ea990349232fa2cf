import { DEFAULT_CIRCUIT_BREAKER } from '../http/upstream-client';
import type { SourceRegistry } from '../sources/registry';

/** Failures that say a source cannot serve now; any other (a refused filter, a bad page) says its upstream is up. */
const OUTAGE_CODES = new Set(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNREACHABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_AUTH_FAILED']);

/** One source as `/readyz` shows it. */
export interface SourceReadiness {
  id: string;
  vendor: string;
  usable: boolean;
  /** What the last call said: UP, DOWN, or UNKNOWN before any call. */
  health: 'UP' | 'DOWN' | 'UNKNOWN';
  circuit: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  lastErrorCode: string | null;
  checkedAt: string | null;
}

/** `/readyz`: ready while at least one source is usable. */
export interface Readiness {
  ready: boolean;
  sources: SourceReadiness[];
}

/**
 * Readiness from what the upstream calls saw; it never calls an upstream itself. A source is
 * unusable while its circuit is open or its last call failed for an outage, and only for as long
 * as its circuit breaker would wait before probing again (`circuitBreaker.halfOpenAfterMs`):
 * after that, a replica taken out of rotation must get traffic again to learn whether the
 * upstream is back, or it would stay unready for ever. A source never called yet is usable.
 */
export function readinessOf(sources: SourceRegistry, nowMs: number = Date.now()): Readiness {
  const states = sources.all.map((source): SourceReadiness => {
    const health = source.health.snapshot();
    const recheckAfterMs = source.config.circuitBreaker?.halfOpenAfterMs ?? DEFAULT_CIRCUIT_BREAKER.halfOpenAfterMs;
    const recent = health.checkedAt !== null && nowMs - health.checkedAt.getTime() < recheckAfterMs;
    const failing = health.circuit === 'OPEN' || (health.status === 'DOWN' && health.lastErrorCode !== null && OUTAGE_CODES.has(health.lastErrorCode));
    return {
      id: source.config.id,
      vendor: source.config.vendor,
      usable: !(failing && recent),
      health: health.status,
      circuit: health.circuit,
      lastErrorCode: health.lastErrorCode,
      checkedAt: health.checkedAt?.toISOString() ?? null,
    };
  });
  return { ready: states.some((state) => state.usable), sources: states };
}
