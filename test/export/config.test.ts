import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, parseConfig } from '../../src/config';

const SECRET = 's'.repeat(40);
const source = { id: 'nirvana-main', vendor: 'nirvana', baseUrl: 'https://api.nirvanalabs.io', apiKey: 'k' };
const document = (exports: unknown) => ({ server: { cursorSecret: SECRET, exports }, sources: [source] });
const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('server.exports', () => {
  it('is off without the section', () => {
    expect(parseConfig({ server: { cursorSecret: SECRET }, sources: [source] }, {}).server.exports).toBeNull();
  });

  it('takes its signing key from the environment, with the documented defaults', () => {
    const parsed = parseConfig(document({ dir: '/var/lib/audit-gateway/exports', signingKey: '${EXPORT_KEY}' }), { EXPORT_KEY: pem });
    expect(parsed.server.exports).toEqual({
      dir: '/var/lib/audit-gateway/exports',
      signingKeyPem: pem,
      ttlSeconds: 86_400,
      tolerateSourceFailure: false,
      maxConcurrent: 2,
      sourceRetries: 2,
      compressionLevel: 1,
    });
  });

  it('refuses a key that is not an Ed25519 private key, naming the key path and never the value', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const value of [rsa, 'CANARY-not-a-key']) {
      let error: unknown;
      try {
        parseConfig(document({ dir: '/tmp/x', signingKey: '${EXPORT_KEY}' }), { EXPORT_KEY: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^server\.exports\.signingKey: /);
      expect((error as Error).message).not.toContain('CANARY');
      expect((error as Error).message).not.toContain('PRIVATE KEY');
    }
    expect(() => parseConfig(document({ dir: '/tmp/x', signingKey: pem, ttl: 5 }), {})).toThrow("server.exports: unknown key(s) 'ttl'");
  });
});
