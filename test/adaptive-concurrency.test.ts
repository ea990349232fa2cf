import { AdaptiveConcurrency, type Place } from '../src/adaptive-concurrency';

/** A limiter whose clock never ticks: the test moves the limit with `adjust`. */
function limiter(min: number, max: number): AdaptiveConcurrency {
  return new AdaptiveConcurrency({ min, max, maxWaiting: 100, sampleMs: 3_600_000, utilization: () => 0 });
}

async function acquireAll(gate: AdaptiveConcurrency, count: number): Promise<Array<Promise<Place | 'full' | null>>> {
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
  /** A limiter on a clock the test moves (`clock.now`), parking after `parkAfterMs`. */
  const clocked = (max: number, parkAfterMs: number) => {
    const clock = { now: 0 };
    const gate = new AdaptiveConcurrency({ min: 1, max, maxWaiting: 10, sampleMs: 3_600_000, parkAfterMs, now: () => clock.now, utilization: () => 0 });
    gates.push(gate);
    return { gate, clock };
  };
  /** Starts an upstream wait of `place` and moves the clock past any `parkAfterMs`: the place parks. Returns the wait's end. */
  const parkedWait = (gate: AdaptiveConcurrency, clock: { now: number }, place: Place) => {
    const answered = place.awaitingUpstream();
    clock.now += 1_000;
    gate.adjust(0.1);
    return answered;
  };

  it('runs up to the limit at once and the rest in arrival order as places free', async () => {
    const gate = make(1, 2);
    const order: number[] = [];
    const grants = await acquireAll(gate, 4);
    grants.forEach((grant, index) => void grant.then(() => order.push(index)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    expect(gate.load).toEqual({ running: 2, parked: 0, waiting: 2 });
    (await grants[0]! as Place).release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2]);
    (await grants[1]! as Place).release();
    (await grants[2]! as Place).release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2, 3]);
    (await grants[3]! as Place).release();
    expect(gate.load).toEqual({ running: 0, parked: 0, waiting: 0 });
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
    releases.slice(0, 4).forEach((release) => (release as Place).release());
    gate.adjust(0.99);
    expect(gate.limit).toBe(12);
    releases.slice(4).forEach((release) => (release as Place).release());
    for (let i = 0; i < 20; i += 1) gate.adjust(0.99);
    expect(gate.limit).toBe(12);
    // Busy with little running: never below the minimum.
    const few = await Promise.all(await acquireAll(gate, 3));
    gate.adjust(0.99);
    expect(gate.limit).toBe(2);
    few.forEach((release) => (release as Place).release());
  });

  it('raises the limit while the loop has time to spare and requests wait, admitting them, up to the maximum', async () => {
    const gate = make(2, 10);
    const first = await Promise.all(await acquireAll(gate, 10));
    first.slice(0, 7).forEach((release) => (release as Place).release());
    gate.adjust(0.99);
    expect(gate.limit).toBe(2);
    first.slice(7).forEach((release) => (release as Place).release());
    const held = await Promise.all(await acquireAll(gate, 2));
    const waiting = await acquireAll(gate, 8);
    expect(gate.load).toEqual({ running: 2, parked: 0, waiting: 8 });
    gate.adjust(0.2);
    expect(gate.limit).toBe(3);
    expect(gate.load).toEqual({ running: 3, parked: 0, waiting: 7 });
    for (let i = 0; i < 10; i += 1) gate.adjust(0.2);
    expect(gate.limit).toBe(10);
    expect(gate.load).toEqual({ running: 10, parked: 0, waiting: 0 });
    // Idle with nobody waiting: the limit stays where it is.
    gate.adjust(0.1);
    expect(gate.limit).toBe(10);
    held.forEach((release) => (release as Place).release());
    (await Promise.all(waiting)).forEach((release) => (release as Place).release());
  });

  it('raises the limit by one after an interval busy short of saturation while requests wait, so that one busy interval never holds it low', async () => {
    const gate = make(2, 10);
    const first = await Promise.all(await acquireAll(gate, 5));
    gate.adjust(0.95);
    expect(gate.limit).toBe(4);
    const waiting = await acquireAll(gate, 3);
    first.forEach((place) => (place as Place).release());
    expect(gate.load).toEqual({ running: 3, parked: 0, waiting: 0 });
    const more = await acquireAll(gate, 2);
    expect(gate.load).toEqual({ running: 4, parked: 0, waiting: 1 });
    gate.adjust(0.85);
    expect(gate.limit).toBe(5);
    expect(gate.load).toEqual({ running: 5, parked: 0, waiting: 0 });
    // Nobody waits: the limit stays.
    gate.adjust(0.85);
    expect(gate.limit).toBe(5);
    (await Promise.all([...waiting, ...more])).forEach((place) => (place as Place).release());
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
    (first as Place).release();
    expect(gate.full).toBe(false);
    ((await second) as Place).release();
  });

  it('lets a waiting request go when its signal aborts, and never gives it a place', async () => {
    const gate = make(1, 1);
    const [held] = await Promise.all(await acquireAll(gate, 1));
    const deadline = new AbortController();
    const waiting = gate.acquire(deadline.signal);
    expect(gate.load.waiting).toBe(1);
    deadline.abort();
    await expect(waiting).resolves.toBeNull();
    expect(gate.load).toEqual({ running: 1, parked: 0, waiting: 0 });
    (held as Place).release();
    expect(gate.load.running).toBe(0);
    await expect(gate.acquire(AbortSignal.abort())).resolves.toBeNull();
  });

  it('answers full at once when as many requests wait as may', async () => {
    const gate = new AdaptiveConcurrency({ min: 1, max: 1, maxWaiting: 2, sampleMs: 3_600_000, utilization: () => 0 });
    gates.push(gate);
    const grants = await acquireAll(gate, 3);
    await expect(gate.acquire()).resolves.toBe('full');
    expect(gate.load).toEqual({ running: 1, parked: 0, waiting: 2 });
    (await grants[0]! as Place).release();
    (await grants[1]! as Place).release();
    (await grants[2]! as Place).release();
  });

  it('gives a place back once, however often its release is called', async () => {
    const gate = make(1, 2);
    const [release] = await Promise.all(await acquireAll(gate, 1));
    (release as Place).release();
    (release as Place).release();
    expect(gate.load.running).toBe(0);
  });

  it('gives the place of a request that has only waited for upstreams for parkAfterMs to a waiting one, and lets it go on after its last answer when a place frees, before newcomers', async () => {
    const { gate, clock } = clocked(4, 250);
    const [slow, busy] = (await Promise.all(await acquireAll(gate, 2))) as Place[];
    gate.adjust(0.95);
    expect(gate.limit).toBe(1);
    const waiting = await acquireAll(gate, 2);
    // Waiting for upstreams, but not yet for long: the place still counts.
    const answered = slow!.awaitingUpstream();
    clock.now += 249;
    gate.adjust(0.95);
    expect(gate.load).toEqual({ running: 2, parked: 0, waiting: 2 });
    // A second call of the same request starts later; the wait runs from the first.
    const alsoAnswered = slow!.awaitingUpstream();
    clock.now += 1;
    gate.adjust(0.95);
    expect(gate.load).toEqual({ running: 2, parked: 1, waiting: 2 });
    // One place counts (busy), at the limit of 1: the waiters still wait.
    busy!.release();
    const third = (await waiting[0]!) as Place;
    expect(gate.load).toEqual({ running: 2, parked: 1, waiting: 1 });
    // An answer with another still awaited: nothing to wait for, the request stays parked.
    expect(answered()).toBeUndefined();
    expect(gate.load.parked).toBe(1);
    // The last answer comes while the one place that counts is taken: the request waits to go on.
    const resumed = alsoAnswered();
    expect(resumed).toBeInstanceOf(Promise);
    expect(alsoAnswered()).toBeUndefined();
    let goesOn = false;
    void resumed!.then(() => (goesOn = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(goesOn).toBe(false);
    expect(gate.load).toEqual({ running: 2, parked: 1, waiting: 1 });
    // A place frees: it goes to the parked request, ahead of the newcomer that has waited longer.
    third.release();
    await resumed;
    expect(gate.load).toEqual({ running: 1, parked: 0, waiting: 1 });
    slow!.release();
    ((await waiting[1]!) as Place).release();
    expect(gate.load).toEqual({ running: 0, parked: 0, waiting: 0 });
  });

  it('lets a parked request go on at once when its last answer comes and a place is free', async () => {
    const { gate, clock } = clocked(4, 100);
    const [place] = (await Promise.all(await acquireAll(gate, 1))) as Place[];
    const answered = parkedWait(gate, clock, place!);
    expect(gate.load).toEqual({ running: 1, parked: 1, waiting: 0 });
    expect(answered()).toBeUndefined();
    expect(gate.load).toEqual({ running: 1, parked: 0, waiting: 0 });
    place!.release();
  });

  it('never leaves a parked request waiting to go on once its place is given back or the limiter closes', async () => {
    const { gate, clock } = clocked(2, 100);
    const [readAhead, other] = (await Promise.all(await acquireAll(gate, 2))) as Place[];
    gate.adjust(0.95);
    expect(gate.limit).toBe(1);
    // `readAhead` parks; the one place that counts is `other`'s.
    const answered = parkedWait(gate, clock, readAhead!);
    const resumed = answered();
    expect(resumed).toBeInstanceOf(Promise);
    // The request ended while its read-ahead waited to go on: the read-ahead goes on without a place.
    readAhead!.release();
    await resumed;
    expect(gate.load).toEqual({ running: 1, parked: 0, waiting: 0 });

    // `other` parks, a newcomer takes the place, and `other`'s answer comes.
    const otherAnswered = parkedWait(gate, clock, other!);
    const [late] = (await Promise.all(await acquireAll(gate, 1))) as Place[];
    const otherResumed = otherAnswered();
    expect(otherResumed).toBeInstanceOf(Promise);
    expect(gate.load).toEqual({ running: 2, parked: 1, waiting: 0 });
    // Stopping: whatever waits to go on goes on, so that in-flight requests can finish.
    gate.close();
    await otherResumed;
    expect(gate.load).toEqual({ running: 2, parked: 0, waiting: 0 });
    late!.release();
    other!.release();
    expect(gate.load).toEqual({ running: 0, parked: 0, waiting: 0 });
  });

  it('never lets more than max requests hold places, parked ones included', async () => {
    const { gate, clock } = clocked(2, 100);
    const places = (await Promise.all(await acquireAll(gate, 2))) as Place[];
    places.forEach((place) => place.awaitingUpstream());
    clock.now += 1_000;
    const waiting = await acquireAll(gate, 1);
    gate.adjust(0.1);
    expect(gate.load).toEqual({ running: 2, parked: 2, waiting: 1 });
    places[0]!.release();
    expect(gate.load).toEqual({ running: 2, parked: 1, waiting: 0 });
    places[1]!.release();
    ((await waiting[0]!) as Place).release();
    expect(gate.load).toEqual({ running: 0, parked: 0, waiting: 0 });
  });

  it('ignores the waits of a request that has given its place back (read-ahead outliving its request)', async () => {
    const { gate, clock } = clocked(2, 100);
    const [place] = (await Promise.all(await acquireAll(gate, 1))) as Place[];
    const answered = parkedWait(gate, clock, place!);
    expect(gate.load.parked).toBe(1);
    place!.release();
    answered();
    place!.awaitingUpstream()();
    expect(gate.load).toEqual({ running: 0, parked: 0, waiting: 0 });
    const [next] = (await Promise.all(await acquireAll(gate, 1))) as Place[];
    expect(gate.load).toEqual({ running: 1, parked: 0, waiting: 0 });
    next!.release();
  });
});
