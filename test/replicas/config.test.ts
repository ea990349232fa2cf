import { ConfigError, parseConfig } from '../../src/config';

const document = (cache: unknown) => ({
  server: { cursorSecret: 'c'.repeat(40), cache },
  sources: [{ id: 'nirvana-main', vendor: 'nirvana', baseUrl: 'https://api.nirvanalabs.io', apiKey: 'k' }],
});

describe('server.cache.redisUrl', () => {
  it('is off by default, and read from the environment like every secret', () => {
    expect(parseConfig(document(undefined), {}).server.cache).toEqual({ redisUrl: null });
    expect(parseConfig(document({ redisUrl: '${REDIS_URL}' }), { REDIS_URL: 'redis://:pw@redis:6379/2' }).server.cache.redisUrl).toBe('redis://:pw@redis:6379/2');
  });

  it('refuses what is not a Redis URL, or an unknown key, without quoting the value', () => {
    for (const [cache, message] of [
      [{ redisUrl: 'http://:s3cret@redis:6379' }, 'server.cache.redisUrl: must be a redis:// or rediss:// URL'],
      [{ redisUrl: 's3cret' }, 'server.cache.redisUrl: not a valid URL'],
      [{ redisUrl: 'redis://x', ttl: 5 }, "server.cache: unknown key(s) 'ttl'"],
    ] as const) {
      let error: unknown;
      try {
        parseConfig(document(cache), {});
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(message);
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});
