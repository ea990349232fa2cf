import type { RedisClientType } from '@keyv/redis';
import { Keyv } from 'keyv';
import type { Logger } from '../logger';

/** Options of {@link SharedStore.connect}. */
export interface SharedStoreOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`; never logged whole. */
  url: string;
  logger: Logger;
  /** Prefix of every key, so that one Redis may serve other programs (or other gateways) too; default `audit-gateway:`. */
  prefix?: string;
  /** How long connecting at start may take; default 5,000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long one command may take before the caller goes on without Redis; default 1,000 ms.
   * A Redis that hangs (rather than refusing connections) would otherwise hang requests.
   */
  commandTimeoutMs?: number;
}

/** A Redis command that failed or took too long: callers fall back to what the process knows. */
export class SharedStoreUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SharedStoreUnavailable';
  }
}

/** A cache layer in Redis, as `FetchCache` uses it: misses and failures look the same (undefined), and writing never throws. */
export interface SharedCacheLayer<Value> {
  get(key: string): Promise<Value | undefined>;
  set(key: string, value: Value, ttlMs: number): Promise<void>;
}

/**
 * One window of a fixed-window counter: INCR, and on the first hit PEXPIRE, in one script so that
 * a counter never lives without its expiry. Answers the count and the milliseconds left.
 */
const WINDOW_HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
`;

/**
 * Spends `ARGV[2]` from a fixed window (length `ARGV[1]` ms, started by its first spending) unless
 * that would take it past `ARGV[3]` (none when empty): the check and the spending in one script,
 * so that replicas spending at once never overdraw it between them, and a refused amount is never
 * counted. An amount of 0 reads the window without starting one. Answers whether it spent, the
 * count, and the milliseconds left.
 */
const WINDOW_SPEND = `
local window = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = redis.call('PTTL', KEYS[1])
if amount <= 0 or (limit and count + amount > limit) then
  if left < 0 then left = window end
  return {0, count, left}
end
count = redis.call('INCRBY', KEYS[1], amount)
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  left = window
end
return {1, count, left}
`;

/** Deletes or extends a key only while it holds `ARGV[1]`: a lease is touched by its holder alone. */
const RELEASE_IF_HELD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
const RENEW_IF_HELD = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/**
 * The Redis the replicas of one gateway share (`server.cache.redisUrl`): one client for the keyv
 * caches, export jobs, rate-limit counters and open circuits. Infrastructure: it stores strings
 * and counters under a prefix and knows nothing of what they mean.
 *
 * Connecting at start must succeed (a replica that cannot share its state would quietly behave
 * as a gateway of its own). Afterwards the client reconnects by itself; meanwhile every command
 * fails at once (no offline queue) or after `commandTimeoutMs`, with {@link SharedStoreUnavailable},
 * and each caller falls back to its in-process behaviour. The first failure of an outage is
 * logged as a warning, its end once.
 */
/** @keyv/redis, as loaded when a store connects. */
type RedisModule = typeof import('@keyv/redis');

export class SharedStore {
  private degraded = false;
  private closed = false;
  private readonly prefix: string;
  private readonly commandTimeoutMs: number;

  private constructor(
    private readonly client: RedisClientType,
    private readonly redis: RedisModule,
    private readonly logger: Logger,
    /** The URL without credentials, for log lines and errors. */
    readonly location: string,
    options: SharedStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'audit-gateway:';
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
  }

  /** Connects and checks that Redis answers; rejects with a message that names the host, never the password. */
  static async connect(options: SharedStoreOptions): Promise<SharedStore> {
    const location = redactedRedisUrl(options.url);
    let started = false;
    // The Redis client is loaded only by a gateway that shares its state: one without Redis
    // never carries it.
    const redis = await import('@keyv/redis');
    const client = redis.createClient({
      url: options.url,
      // A command while disconnected fails at once instead of waiting in memory for a reconnect.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 5_000,
        // At start a refused connection is final (start-up fails); later, retry with a capped backoff.
        // A new Error: the client tests `instanceof Error`, which a socket's error from another
        // realm (a test runner's sandbox) would fail, and it would then retry for ever.
        reconnectStrategy: (retries: number, cause: Error) => (started ? Math.min(100 * 2 ** retries, 2_000) : new Error(cause.message)),
      },
    }) as RedisClientType;
    let store: SharedStore | null = null;
    // Without a listener, an 'error' event would end the process.
    client.on('error', (error: unknown) => store?.failed(error));
    client.on('ready', () => store?.recovered());
    try {
      await client.connect();
      await withTimeout(client.ping(), options.connectTimeoutMs ?? 5_000);
    } catch (error) {
      if (client.isOpen) client.destroy();
      throw new SharedStoreUnavailable(`cannot use Redis at ${location}: ${describe(error)}`, { cause: error });
    }
    started = true;
    store = new SharedStore(client, redis, options.logger, location, options);
    return store;
  }

  /** True while connected. */
  get available(): boolean {
    return this.client.isReady;
  }

  /** A keyv cache in Redis under `namespace`, through @keyv/redis; see {@link SharedCacheLayer}. */
  cacheLayer<Value>(namespace: string): SharedCacheLayer<Value> {
    const adapter = new this.redis.default<Value>(this.client, { throwOnErrors: true, throwOnConnectError: true });
    // The adapter re-emits the client's errors; the client's own listener already reports them.
    adapter.on('error', () => undefined);
    const keyv = new Keyv<Value>({ store: adapter, namespace: `${this.prefix}${namespace}`, throwOnErrors: true });
    keyv.on('error', () => undefined);
    return {
      get: async (key) => {
        try {
          return await this.bounded(keyv.get<Value>(key));
        } catch (error) {
          this.failed(error);
          return undefined;
        }
      },
      set: async (key, value, ttlMs) => {
        try {
          await this.bounded(keyv.set(key, value, ttlMs));
        } catch (error) {
          this.failed(error);
        }
      },
    };
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.client.get(this.key(key)));
  }

  /** Sets `key`; with `ifAbsent` only when it does not exist (answers whether it was set). */
  async set(key: string, value: string, options: { ttlMs?: number; ifAbsent?: boolean } = {}): Promise<boolean> {
    const reply = await this.run(() =>
      this.client.set(this.key(key), value, {
        ...(options.ttlMs !== undefined ? { expiration: { type: 'PX' as const, value: Math.max(1, Math.ceil(options.ttlMs)) } } : {}),
        ...(options.ifAbsent ? { condition: 'NX' as const } : {}),
      }),
    );
    return reply === 'OK';
  }

  async getMany(keys: readonly string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return [];
    return this.run(() => this.client.mGet(keys.map((key) => this.key(key))));
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.run(() => this.client.del(keys.map((key) => this.key(key))));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.run(() => this.client.exists(this.key(key)))) > 0;
  }

  async addToSet(key: string, member: string): Promise<void> {
    await this.run(() => this.client.sAdd(this.key(key), member));
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.run(() => this.client.sRem(this.key(key), member));
  }

  async setMembers(key: string): Promise<string[]> {
    return this.run(() => this.client.sMembers(this.key(key)));
  }

  /**
   * Counts one hit in the fixed window of `key` that started with its first hit and lasts
   * `windowMs`: every replica counts in the same window.
   */
  async hitWindow(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const reply = await this.run(() => this.client.eval(WINDOW_HIT, { keys: [this.key(key)], arguments: [String(windowMs)] }));
    const [count, left] = reply as [number, number];
    return { count: Number(count), resetInMs: Math.max(0, Number(left)) };
  }

  /**
   * Adds `amount` to the fixed window of `key` that started with its first spending and lasts
   * `windowMs`, unless the window would then hold more than `limit`: then nothing is added
   * (`spent` false). Every replica spends from the same window; `amount` 0 only reads it.
   */
  async spendWindow(key: string, windowMs: number, amount: number, limit?: number): Promise<{ spent: boolean; count: number; resetInMs: number }> {
    const reply = await this.run(() =>
      this.client.eval(WINDOW_SPEND, { keys: [this.key(key)], arguments: [String(Math.ceil(windowMs)), String(amount), limit === undefined ? '' : String(limit)] }),
    );
    const [spent, count, left] = reply as [number, number, number];
    return { spent: Number(spent) === 1, count: Number(count), resetInMs: Math.max(0, Number(left)) };
  }

  /** Takes `key` for `holder` for `ttlMs` if nobody holds it (answers whether it did). */
  async takeLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.set(key, holder, { ttlMs, ifAbsent: true });
  }

  /** Extends `holder`'s lease, or takes it again if it lapsed meanwhile; false when someone else holds it. */
  async renewLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const reply = await this.run(() => this.client.eval(RENEW_IF_HELD, { keys: [this.key(key)], arguments: [holder, String(Math.ceil(ttlMs))] }));
    return Number(reply) === 1;
  }

  /** Ends `holder`'s lease; someone else's is left alone. */
  async releaseLease(key: string, holder: string): Promise<void> {
    await this.run(() => this.client.eval(RELEASE_IF_HELD, { keys: [this.key(key)], arguments: [holder] }));
  }

  /** Closes the connection; commands sent meanwhile are answered first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await withTimeout(this.client.close(), this.commandTimeoutMs);
    } catch {
      if (this.client.isOpen) this.client.destroy();
    }
  }

  private key(key: string): string {
    return `${this.prefix}${key}`;
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.closed) throw new SharedStoreUnavailable('the shared store is closed');
    try {
      const result = await this.bounded(command());
      this.recovered();
      return result;
    } catch (error) {
      this.failed(error);
      throw error instanceof SharedStoreUnavailable ? error : new SharedStoreUnavailable(`Redis at ${this.location}: ${describe(error)}`, { cause: error });
    }
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, this.commandTimeoutMs);
  }

  private failed(error: unknown): void {
    if (this.degraded || this.closed) return;
    this.degraded = true;
    this.logger.warn({ redis: this.location, reason: describe(error) }, 'shared store (Redis) unavailable: each replica falls back to its own caches, counters and circuits until it is back');
  }

  private recovered(): void {
    if (!this.degraded || this.closed) return;
    this.degraded = false;
    this.logger.info({ redis: this.location }, 'shared store (Redis) is back');
  }
}

/** The URL without user name and password, for log lines and errors. */
export function redactedRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'an invalid URL';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new SharedStoreUnavailable(`no answer from Redis within ${ms} ms`)), ms);
    timer.unref();
  });
  // A command answered after its caller gave up must not be an unhandled rejection.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
