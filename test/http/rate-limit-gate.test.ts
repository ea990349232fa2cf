import { GateClosedError, RateLimitGate, type GatePass } from '../../src/http/rate-limit-gate';

const FAR = () => Date.now() + 60_000;
const never = () => new AbortController().signal;

/** Whether `promise` has settled after the pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('RateLimitGate', () => {
  it('lets every caller through while no rate limit was seen', async () => {
    const gate = new RateLimitGate();
    const passes = await Promise.all([1, 2, 3].map(() => gate.enter(never(), FAR())));
    expect(passes.map((pass) => pass.probe)).toEqual([false, false, false]);
  });

  it('refuses at once a caller whose deadline comes before the gate opens, saying how long it stays closed', async () => {
    const gate = new RateLimitGate();
    gate.closeUntil(Date.now() + 120_000);
    const error = await gate.enter(never(), Date.now() + 8_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateClosedError);
    expect((error as GateClosedError).waitMs).toBeGreaterThan(119_000);
  });

  it('makes every caller wait for the same instant, then lets one probe go first', async () => {
    const gate = new RateLimitGate();
    const until = Date.now() + 50;
    gate.closeUntil(until);
    const callers = [gate.enter(never(), FAR()), gate.enter(never(), FAR())];
    // Either may wake first and probe; the other waits for it.
    const first = await Promise.race(callers.map((caller, index) => caller.then((pass) => ({ pass, index }))));
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    expect(first.pass.probe).toBe(true);
    const other = callers[1 - first.index]!;
    expect(await settled(other)).toBe(false);
    first.pass.done(false);
    expect((await other).probe).toBe(false);
  });

  it('passes the probe on when the upstream still limits, or the probe was never sent', async () => {
    const gate = new RateLimitGate();
    gate.closeUntil(Date.now());
    const waiting = [0, 1, 2].map(() => gate.enter(never(), FAR()));
    const first = await waiting[0]!;
    expect(first.probe).toBe(true);
    first.done(true);
    const second: GatePass = await waiting[1]!;
    expect(second.probe).toBe(true);
    expect(await settled(waiting[2]!)).toBe(false);
    second.done(false);
    expect((await waiting[2]!).probe).toBe(false);
  });

  it('gives up waiting for a probe at the caller deadline, and at once when the caller aborts', async () => {
    const gate = new RateLimitGate();
    gate.closeUntil(Date.now());
    const probe = await gate.enter(never(), FAR());
    expect(await gate.enter(never(), Date.now() + 20).catch((e: unknown) => e)).toBeInstanceOf(GateClosedError);
    const controller = new AbortController();
    const aborted = gate.enter(controller.signal, FAR()).catch((e: unknown) => e);
    controller.abort(new Error('client went away'));
    expect(await aborted).toEqual(new Error('client went away'));
    probe.done(false);
  });
});
