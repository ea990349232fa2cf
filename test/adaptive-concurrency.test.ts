import { AdaptiveConcurrency } from '../src/adaptive-concurrency';

/** A limiter whose clock never ticks: the test moves the limit with `adjust`. */
function limiter(min: number, max: number): AdaptiveConcurrency {
  return new AdaptiveConcurrency({ min, max, maxWaiting: 100, sampleMs: 3_600_000, utilization: () => 0 });
}

async function acquireAll(gate: AdaptiveConcurrency, count: number): Promise<Array<Promise<(() => void) | 'full' | null>>> {
  const grants = Array.from({ length: count }, () => gate.acquire());
  await Promise.resolve();
  return grants;
}

describe('AdaptiveConcurrency', () => {
  const gates: AdaptiveConcurrency[] = [];
  const make = (min: number, max: number) => {
    const gate = limiter(min, max);
    gates.push(gate);
    return gate;
  };
  afterAll(() => gates.forEach((gate) => gate.close()));

  it('runs up to the limit at once and the rest in arrival order as places free', async () => {
    const gate = make(1, 2);
    const order: number[] = [];
    const grants = await acquireAll(gate, 4);
    grants.forEach((grant, index) => void grant.then(() => order.push(index)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    expect(gate.load).toEqual({ running: 2, waiting: 2 });
    (await grants[0]! as () => void)();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2]);
    (await grants[1]! as () => void)();
    (await grants[2]! as () => void)();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2, 3]);
    (await grants[3]! as () => void)();
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('cuts the limit below what runs while the loop has no time to spare, once per cut, down to the minimum', async () => {
    const gate = make(2, 20);
    const grants = await acquireAll(gate, 20);
    const releases = await Promise.all(grants);
    gate.adjust(0.99);
    expect(gate.limit).toBe(16);
    // The 20 admitted before the cut still run: the next cut waits for the first to take effect.
    gate.adjust(0.99);
    expect(gate.limit).toBe(16);
    releases.slice(0, 4).forEach((release) => (release as () => void)());
    gate.adjust(0.99);
    expect(gate.limit).toBe(12);
    releases.slice(4).forEach((release) => (release as () => void)());
    for (let i = 0; i < 20; i += 1) gate.adjust(0.99);
    expect(gate.limit).toBe(12);
    // Busy with little running: never below the minimum.
    const few = await Promise.all(await acquireAll(gate, 3));
    gate.adjust(0.99);
    expect(gate.limit).toBe(2);
    few.forEach((release) => (release as () => void)());
  });

  it('raises the limit while the loop has time to spare and requests wait, admitting them, up to the maximum', async () => {
    const gate = make(2, 10);
    const first = await Promise.all(await acquireAll(gate, 10));
    first.slice(0, 7).forEach((release) => (release as () => void)());
    gate.adjust(0.99);
    expect(gate.limit).toBe(2);
    first.slice(7).forEach((release) => (release as () => void)());
    const held = await Promise.all(await acquireAll(gate, 2));
    const waiting = await acquireAll(gate, 8);
    expect(gate.load).toEqual({ running: 2, waiting: 8 });
    gate.adjust(0.2);
    expect(gate.limit).toBe(3);
    expect(gate.load).toEqual({ running: 3, waiting: 7 });
    for (let i = 0; i < 10; i += 1) gate.adjust(0.2);
    expect(gate.limit).toBe(10);
    expect(gate.load).toEqual({ running: 10, waiting: 0 });
    // Idle with nobody waiting: the limit stays where it is.
    gate.adjust(0.1);
    expect(gate.limit).toBe(10);
    held.forEach((release) => (release as () => void)());
    (await Promise.all(waiting)).forEach((release) => (release as () => void)());
  });

  it('says the process has time to spare only after an interval in which the loop was busy less than three quarters of the time', () => {
    const gate = make(2, 8);
    expect(gate.spare).toBe(true);
    gate.adjust(0.95);
    expect(gate.spare).toBe(false);
    gate.adjust(0.8);
    expect(gate.spare).toBe(false);
    gate.adjust(0.5);
    expect(gate.spare).toBe(true);
  });

  it('says it is full exactly when acquire would answer full', async () => {
    const gate = new AdaptiveConcurrency({ min: 1, max: 1, maxWaiting: 1, sampleMs: 3_600_000, utilization: () => 0 });
    gates.push(gate);
    expect(gate.full).toBe(false);
    const first = await gate.acquire();
    expect(gate.full).toBe(false);
    const second = gate.acquire();
    expect(gate.full).toBe(true);
    expect(await gate.acquire()).toBe('full');
    (first as () => void)();
    expect(gate.full).toBe(false);
    ((await second) as () => void)();
  });

  it('lets a waiting request go when its signal aborts, and never gives it a place', async () => {
    const gate = make(1, 1);
    const [held] = await Promise.all(await acquireAll(gate, 1));
    const deadline = new AbortController();
    const waiting = gate.acquire(deadline.signal);
    expect(gate.load.waiting).toBe(1);
    deadline.abort();
    await expect(waiting).resolves.toBeNull();
    expect(gate.load).toEqual({ running: 1, waiting: 0 });
    (held as () => void)();
    expect(gate.load.running).toBe(0);
    await expect(gate.acquire(AbortSignal.abort())).resolves.toBeNull();
  });

  it('answers full at once when as many requests wait as may', async () => {
    const gate = new AdaptiveConcurrency({ min: 1, max: 1, maxWaiting: 2, sampleMs: 3_600_000, utilization: () => 0 });
    gates.push(gate);
    const grants = await acquireAll(gate, 3);
    await expect(gate.acquire()).resolves.toBe('full');
    expect(gate.load).toEqual({ running: 1, waiting: 2 });
    (await grants[0]! as () => void)();
    (await grants[1]! as () => void)();
    (await grants[2]! as () => void)();
  });

  it('gives a place back once, however often its release is called', async () => {
    const gate = make(1, 2);
    const [release] = await Promise.all(await acquireAll(gate, 1));
    (release as () => void)();
    (release as () => void)();
    expect(gate.load.running).toBe(0);
  });
});
