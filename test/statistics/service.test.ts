import type { StatisticsAnswer } from '../../src/statistics/compute';
import { StatisticsService, statisticsSnapshot } from '../../src/statistics/service';

const SECOND = Date.UTC(2026, 0, 1, 12, 0, 0);
const key = { scope: 'a,b', fingerprint: 'f', need: 'FULL' as const, filterToMs: null };
const signal = new AbortController().signal;

function answer(asOfMs: number, reusable = true): StatisticsAnswer {
  return { asOfMs, reusable } as StatisticsAnswer;
}

/** A computation that ends when told to, counting how often it was started. */
function gate() {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const started: number[] = [];
  const compute = async (asOfMs: number) => {
    started.push(asOfMs);
    await released;
    return answer(asOfMs);
  };
  return { compute, started, release: () => release() };
}

describe('statisticsSnapshot', () => {
  it('is the snapshot rule rounded down to the end of the previous whole second', () => {
    expect(statisticsSnapshot(SECOND + 1_500, 0)).toBe(SECOND + 999);
    expect(statisticsSnapshot(SECOND + 1_000, 0)).toBe(SECOND + 999);
    expect(statisticsSnapshot(SECOND + 999, 0)).toBe(SECOND - 1);
    expect(statisticsSnapshot(SECOND + 61_500, 60_000)).toBe(SECOND + 999);
  });
});

describe('StatisticsService', () => {
  it('shares one computation between identical requests while it runs and for a second after, across second boundaries, and keeps the answer', async () => {
    let now = SECOND;
    const service = new StatisticsService(60, () => now);
    const { compute, started, release } = gate();
    const asked = [service.answer(key, SECOND - 1, compute, signal), service.answer(key, SECOND - 1, compute, signal)];
    await new Promise((resolve) => setImmediate(resolve));
    // Still running two seconds on (say, waiting in the admission queue): the same computation.
    now += 2_000;
    asked.push(service.answer(key, SECOND + 1_999, compute, signal));
    release();
    const answers = await Promise.all(asked);
    expect(started).toEqual([SECOND - 1]);
    expect(answers.every((a) => a.asOfMs === SECOND - 1)).toBe(true);
    // Within a second of its end: its answer, kept.
    now += 900;
    await service.answer(key, SECOND + 2_999, compute, signal);
    expect(started).toHaveLength(1);
    // Later, the snapshot moves.
    now += 200;
    await service.answer(key, SECOND + 2_999, compute, signal);
    expect(started).toEqual([SECOND - 1, SECOND + 2_999]);
  });

  it('never shares between scopes, filters or needs', async () => {
    const service = new StatisticsService(60);
    const computed: string[] = [];
    const compute = (tag: string) => async (asOfMs: number) => {
      computed.push(tag);
      return answer(asOfMs);
    };
    await service.answer(key, SECOND, compute('a'), signal);
    await service.answer({ ...key, scope: 'a' }, SECOND, compute('b'), signal);
    await service.answer({ ...key, fingerprint: 'g' }, SECOND, compute('c'), signal);
    await service.answer({ ...key, need: 'TOTAL' }, SECOND, compute('d'), signal);
    await service.answer(key, SECOND, compute('e'), signal);
    expect(computed).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps an answer whose window ended before the snapshot for its TTL, whatever the snapshot', async () => {
    const service = new StatisticsService(60);
    let computations = 0;
    const compute = async (asOfMs: number) => {
      computations += 1;
      return answer(asOfMs);
    };
    const closed = { ...key, filterToMs: SECOND - 60_000 };
    await service.answer(closed, SECOND, compute, signal);
    await service.answer(closed, SECOND + 30_000, compute, signal);
    expect(computations).toBe(1);
  });

  it('shares but never keeps an answer that is not reusable (a failed source), nor any with a TTL of 0', async () => {
    for (const [ttl, reusable] of [
      [60, false],
      [0, true],
    ] as const) {
      const service = new StatisticsService(ttl);
      let computations = 0;
      const compute = async (asOfMs: number) => {
        computations += 1;
        return answer(asOfMs, reusable);
      };
      await Promise.all([service.answer(key, SECOND, compute, signal), service.answer(key, SECOND, compute, signal)]);
      expect(computations).toBe(1);
      await service.answer(key, SECOND, compute, signal);
      expect(computations).toBe(2);
    }
  });

  it('stops only the waiting of a caller that goes away', async () => {
    const service = new StatisticsService(60);
    const { compute, release } = gate();
    const controller = new AbortController();
    const leaving = service.answer(key, SECOND, compute, controller.signal);
    const staying = service.answer(key, SECOND, compute, signal);
    controller.abort(new Error('gone'));
    await expect(leaving).rejects.toThrow('gone');
    release();
    await expect(staying).resolves.toMatchObject({ asOfMs: SECOND });
  });
});
