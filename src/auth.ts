import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { KeyLike, JWTVerifyGetKey } from 'jose';
import type { Logger } from './logger';

/** One API key of `server.auth.apiKeys`: the config holds its SHA-256, never the key. */
export interface ApiKeyConfig {
  /** Names the key in logs and in cursors' scope; never secret. */
  id: string;
  /** Hex SHA-256 of the key a client sends. */
  sha256: string;
  /** Source ids the key may read, or `*` for all. */
  sources: '*' | readonly string[];
}

/** JWTs of the customer's identity provider, verified with jose. */
export interface JwtConfig {
  issuer: string;
  audience: string;
  /** Where the provider publishes its keys (fetched and cached by jose), or ... */
  jwksUrl: string | null;
  /** ... its public key in PEM (SPKI). */
  publicKey: string | null;
  /** The claim listing the source ids the token may read (an array, or `*`). */
  sourcesClaim: string;
  /** Accepted signature algorithms; default RS256, ES256, EdDSA. */
  algorithms: readonly string[];
}

/** `server.auth`: who may call the gateway and what each may read. */
export type AuthConfig = { mode: 'none' } | { mode: 'required'; apiKeys: readonly ApiKeyConfig[]; jwt: JwtConfig | null };

/** Who is calling, and the sources they may read. */
export interface Principal {
  /** The API key id, `jwt:<subject>`, or `anonymous` when the gateway runs open. */
  id: string;
  sources: '*' | ReadonlySet<string>;
}

/** Why a request was refused: the 401 to answer. */
export interface AuthFailure {
  message: string;
  /** The `WWW-Authenticate` header value. */
  challenge: string;
}

/** The principal of a gateway that runs without authentication (loopback only, or `mode: none`). */
export const ANONYMOUS: Principal = { id: 'anonymous', sources: '*' };

/**
 * Authenticates requests by `Authorization: Bearer <credential>`: an API key (its SHA-256
 * compared in constant time with every configured one, so neither timing nor the config reveals a
 * key) or a JWT of the configured issuer and audience, whose sources claim scopes it. Logs name
 * the key id or token subject, never the credential.
 */
/** jose, as loaded when tokens are verified. */
type Jose = typeof import('jose');

export class Authenticator {
  private readonly keys: ReadonlyArray<{ config: ApiKeyConfig; digest: Buffer }>;

  private constructor(
    private readonly config: AuthConfig,
    private readonly jwtKey: { key: KeyLike | JWTVerifyGetKey; jose: Jose } | null,
    private readonly logger: Logger,
  ) {
    this.keys = config.mode === 'required' ? config.apiKeys.map((key) => ({ config: key, digest: Buffer.from(key.sha256, 'hex') })) : [];
  }

  /**
   * Reads the JWT public key at start-up, so that a bad one stops the gateway with a clear error
   * instead of failing every request. A JWKS is fetched (and cached, and refetched on an unknown
   * key id) by jose when the first token arrives.
   */
  static async create(config: AuthConfig, logger: Logger): Promise<Authenticator> {
    const jwt = config.mode === 'required' ? config.jwt : null;
    // jose is loaded only by a gateway that verifies tokens.
    if (jwt?.jwksUrl) {
      const jose = await import('jose');
      return new Authenticator(config, { key: jose.createRemoteJWKSet(new URL(jwt.jwksUrl)), jose }, logger);
    }
    if (jwt?.publicKey) {
      let key: KeyLike;
      try {
        // A KeyObject serves every algorithm of its key type; jose still checks the token's alg
        // against `algorithms` and the key.
        key = createPublicKey(jwt.publicKey);
      } catch {
        throw new Error('server.auth.jwt.publicKey: not a public key in PEM (SPKI)');
      }
      return new Authenticator(config, { key, jose: await import('jose') }, logger);
    }
    return new Authenticator(config, null, logger);
  }

  /** The caller of a request with this `Authorization` header, or why it may not call. */
  async authenticate(authorization: string | undefined): Promise<{ principal: Principal } | { failure: AuthFailure }> {
    if (this.config.mode === 'none') return { principal: ANONYMOUS };
    const credential = /^Bearer ([^\s]+)$/i.exec(authorization ?? '')?.[1];
    if (!credential) return { failure: { message: 'authentication required: send Authorization: Bearer <API key or token>', challenge: 'Bearer realm="audit-gateway"' } };
    const invalid: AuthFailure = { message: 'the credential is not valid', challenge: 'Bearer realm="audit-gateway", error="invalid_token"' };

    const digest = createHash('sha256').update(credential, 'utf8').digest();
    let matched: ApiKeyConfig | null = null;
    // Every key is compared, matched or not, so the time taken says nothing about which matched.
    for (const key of this.keys) if (key.digest.length === digest.length && timingSafeEqual(key.digest, digest)) matched = key.config;
    if (matched) return { principal: { id: matched.id, sources: matched.sources === '*' ? '*' : new Set(matched.sources) } };

    if (this.config.jwt && this.jwtKey && credential.split('.').length === 3) {
      const principal = await this.verifyJwt(credential, this.config.jwt, this.jwtKey.key, this.jwtKey.jose);
      if (principal) return { principal };
    }
    return { failure: invalid };
  }

  private async verifyJwt(token: string, jwt: JwtConfig, key: KeyLike | JWTVerifyGetKey, jose: Jose): Promise<Principal | null> {
    try {
      const options = { issuer: jwt.issuer, audience: jwt.audience, algorithms: [...jwt.algorithms] };
      const { payload } = typeof key === 'function' ? await jose.jwtVerify(token, key, options) : await jose.jwtVerify(token, key, options);
      const claim = payload[jwt.sourcesClaim];
      const sources = claim === '*' ? '*' : Array.isArray(claim) && claim.every((id) => typeof id === 'string') ? new Set(claim as string[]) : null;
      if (sources === null) {
        this.logger.warn({ subject: payload.sub ?? null, claim: jwt.sourcesClaim }, 'token refused: its sources claim is missing or not a list of source ids');
        return null;
      }
      return { id: `jwt:${payload.sub ?? 'unknown'}`, sources };
    } catch (error) {
      this.logger.info({ reason: error instanceof Error ? error.name : 'unknown' }, 'token refused');
      return null;
    }
  }
}

/** True for a host only this machine can reach: the only kind a gateway without authentication may listen on. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return host === '::1';
  return false;
}
