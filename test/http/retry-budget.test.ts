import { RetryBudget } from '../../src/http/retry-budget';

/** A budget on a clock the test moves. */
function budget(ratio: number, minPerSecond: number): { budget: RetryBudget; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { budget: new RetryBudget({ ratio, minPerSecond, now: () => now }), advance: (ms) => void (now += ms) };
}

function retriesAllowed(subject: RetryBudget, tries = 1000): number {
  let allowed = 0;
  for (let i = 0; i < tries; i++) if (subject.tryRetry()) allowed += 1;
  return allowed;
}

describe('RetryBudget', () => {
  it('earns `ratio` of a retry per first attempt: 30 first attempts at 0.1 allow 3 retries', () => {
    const { budget: subject } = budget(0.1, 0);
    expect(subject.tryRetry()).toBe(false);
    for (let i = 0; i < 30; i++) subject.recordFirstAttempt();
    expect(retriesAllowed(subject)).toBe(3);
  });

  it('allows the floor, minPerSecond over the 10 s window, with no traffic at all', () => {
    const { budget: subject } = budget(0.1, 1);
    expect(retriesAllowed(subject)).toBe(10);
  });

  it('adds the floor and the ratio: 500 first attempts at 0.1 with 1 a second allow 60 retries', () => {
    const { budget: subject } = budget(0.1, 1);
    for (let i = 0; i < 500; i++) subject.recordFirstAttempt();
    expect(retriesAllowed(subject)).toBe(60);
  });

  it('forgets attempts and retries older than the window', () => {
    const { budget: subject, advance } = budget(0.1, 0);
    for (let i = 0; i < 100; i++) subject.recordFirstAttempt();
    expect(retriesAllowed(subject)).toBe(10);
    advance(5_000);
    expect(subject.tryRetry()).toBe(false);
    // The attempts of 10.5 s ago are out of the window: nothing earned, nothing spent.
    advance(5_500);
    expect(subject.tryRetry()).toBe(false);
    for (let i = 0; i < 20; i++) subject.recordFirstAttempt();
    expect(retriesAllowed(subject)).toBe(2);
  });

  it('spends nothing on a refused retry', () => {
    const { budget: subject } = budget(0.5, 0);
    subject.recordFirstAttempt();
    expect(retriesAllowed(subject, 5)).toBe(0);
    subject.recordFirstAttempt();
    expect(retriesAllowed(subject, 5)).toBe(1);
  });
});
