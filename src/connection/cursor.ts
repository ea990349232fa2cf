import { createHash, timingSafeEqual } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { badUserInput, ErrorCode, GatewayError } from '../errors';
import type { JsonValue } from '../models/json';
import type { Direction } from '../sources/data-source';
import { HmacSha256 } from './hmac-sha256';
import type { EventKey } from './order';

/** Where one source stands in a traversal. */
export interface SourceCursorState {
  /** The datasource's resume state; null = the start of the window. */
  r: JsonValue;
  /** The last event of this source already listed: [occurredAtMs, sourceEventId]. */
  k?: [number, string];
  /** 1 when the source has nothing more in this traversal. */
  x?: 1;
  /** Batches this source has read in the traversal so far (capped): how far its batches have grown. */
  g?: number;
}

/** How a traversal goes on from a cursor. */
export type TraversalResume =
  /**
   * The same traversal continues: each source from its own state (a source without one has not
   * been read yet). `origin` is where a traversal that did not start at an end of the window
   * started (it turned around at a cursor, or follows a tail): every page of it reads the sources
   * bounded there, as its first page did, because the states were built for that bounded read.
   */
  | { kind: 'sources'; states: Record<string, SourceCursorState>; origin: EventKey | null }
  /** Only the position is known (grouped nested connections): the next page seeks every source there. */
  | { kind: 'position' }
  /**
   * The end of an oldest-first traversal that listed everything in its snapshot: paging on from it
   * later starts a newer snapshot at the same position, listing only what arrived since, once each.
   */
  | { kind: 'tail' };

/**
 * A decoded cursor: everything needed to continue a traversal, on any replica (no server-side
 * state). The engine works with this type; only the codec knows the wire form.
 */
export interface TraversalCursor {
  /** Fingerprint of the filter and order the cursor was issued for. */
  queryFingerprint: string;
  /** The traversal's snapshot instant (asOf), ms. */
  snapshotMs: number;
  /** When the cursor was issued, whole seconds (cursors expire after `ttlSeconds`). */
  issuedAtSeconds: number;
  /** The direction the traversal runs in: the client's order, reversed for backward pages. */
  traversal: Direction;
  /** The key of the edge, or of the last event taken; null before the traversal took any. */
  position: EventKey | null;
  resume: TraversalResume;
}

/**
 * The wire form of a {@link TraversalCursor}. Names are one letter because every edge carries a
 * cursor; nothing outside this module reads them.
 */
interface CursorPayload {
  q: string;
  a: number;
  i: number;
  d: Direction;
  p: EventKey | null;
  s: Record<string, SourceCursorState>;
  /** Position only: see {@link TraversalResume}. */
  m?: 1;
  /** Origin of a turned traversal. */
  o?: EventKey;
  /** Tail. */
  e?: 1;
}

// Object literals, not a spread of a common base: a page encodes up to 100 of these, and the
// spread made building and writing one several times slower.
function toPayload(cursor: TraversalCursor): CursorPayload {
  const { queryFingerprint: q, snapshotMs: a, issuedAtSeconds: i, traversal: d, position: p } = cursor;
  switch (cursor.resume.kind) {
    case 'sources': {
      const { states: s, origin: o } = cursor.resume;
      return o ? { q, a, i, d, p, s, o } : { q, a, i, d, p, s };
    }
    case 'position':
      return { q, a, i, d, p, s: {}, m: 1 };
    case 'tail':
      return { q, a, i, d, p, s: {}, e: 1 };
    default: {
      const unreachable: never = cursor.resume;
      return unreachable;
    }
  }
}

function fromPayload(payload: CursorPayload): TraversalCursor {
  const resume: TraversalResume =
    payload.e === 1 ? { kind: 'tail' } : payload.m === 1 ? { kind: 'position' } : { kind: 'sources', states: payload.s, origin: payload.o ?? null };
  return { queryFingerprint: payload.q, snapshotMs: payload.a, issuedAtSeconds: payload.i, traversal: payload.d, position: payload.p, resume };
}

/** The most doublings a source's batches carry from page to page (see SourceStream.listBatch). */
export const MAX_GROWTH = 16;

/** Version 1: JSON payload; version 2: deflated JSON payload (cursors with several sources). */
const VERSION_JSON = 1;
const VERSION_DEFLATED = 2;
const KEY_ID_BYTES = 4;
const MAC_BYTES = 16;
/** Payloads shorter than this gain nothing from deflate. */
const DEFLATE_FROM_BYTES = 160;
/**
 * A 1 KiB window and small hash tables: payloads are a few hundred bytes to a few KiB, and the
 * default 32 KiB window with its 256 KiB of state made each encode allocate far more than it
 * wrote. Any inflate reads it.
 */
const DEFLATE_OPTIONS = { windowBits: 10, memLevel: 4 } as const;
/** A signed payload never inflates beyond this: a bound against decompression bombs. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

// A resume state comes out of JSON.parse, so it is JSON whatever its shape; each datasource
// checks the shape of its own states. Walking it again here cost a third of a decode.
const jsonValue = z.custom<JsonValue>(() => true);

const payloadSchema = z.strictObject({
  q: z.string(),
  a: z.number().int(),
  i: z.number().int(),
  d: z.enum(['ASC', 'DESC']),
  p: z.tuple([z.number().int(), z.string(), z.string()]).nullable(),
  s: z.record(
    z.string(),
    z.strictObject({
      r: jsonValue,
      k: z.tuple([z.number().int(), z.string()]).optional(),
      x: z.literal(1).optional(),
      g: z.number().int().min(1).max(MAX_GROWTH).optional(),
    }),
  ),
  m: z.literal(1).optional(),
  o: z.tuple([z.number().int(), z.string(), z.string()]).optional(),
  e: z.literal(1).optional(),
});

/** Options for {@link CursorCodec}. */
export interface CursorCodecOptions {
  /** Signs new cursors; at least 32 bytes. */
  secret: string;
  /**
   * Verify only, for the grace period of a key rotation: each retired secret until its end
   * (ms). After it, a cursor it signed is CURSOR_EXPIRED: told apart from a forged one, since the
   * gateway still holds the key to check the signature.
   */
  previousSecrets?: ReadonlyArray<{ secret: string; untilMs: number }>;
  /** Cursors older than this are refused with reason CURSOR_EXPIRED. */
  ttlSeconds: number;
}

/**
 * Opaque, versioned, HMAC-SHA256-signed cursors: base64url of
 * `version (1) | key id (4) | payload | MAC (16)`, the payload JSON (version 1) or deflated JSON
 * (version 2: a cursor over five sources halves). The key id lets a rotated key keep verifying
 * old cursors; it is a hash prefix, so it reveals nothing about the key. The MAC covers the
 * bytes as sent, so nothing is inflated before it is verified.
 */
export class CursorCodec {
  private readonly signingKey: { id: Buffer; mac: HmacSha256 };
  /** Every key that verifies, by key id; the signing key never retires. */
  private readonly keys: Map<string, { mac: HmacSha256; untilMs: number }>;

  constructor(private readonly options: CursorCodecOptions) {
    const all = [...(options.previousSecrets ?? []), { secret: options.secret, untilMs: Number.POSITIVE_INFINITY }];
    this.keys = new Map(all.map(({ secret, untilMs }) => [keyId(secret).toString('hex'), { mac: new HmacSha256(Buffer.from(secret, 'utf8')), untilMs }]));
    const signingId = keyId(options.secret);
    this.signingKey = { id: signingId, mac: this.keys.get(signingId.toString('hex'))!.mac };
  }

  /**
   * @param scope whom the cursor is for (the caller's principal id): it is signed into the MAC,
   *   so another caller's cursor fails verification exactly like a forged one, revealing nothing.
   */
  encode(cursor: TraversalCursor, scope = ''): string {
    const json = JSON.stringify(toPayload(cursor));
    // One buffer for head, key id, payload and MAC: a page encodes up to 100 cursors, and the
    // intermediate buffers of a concat were a fifth of each.
    const jsonBytes = Buffer.byteLength(json, 'utf8');
    const deflated = jsonBytes >= DEFLATE_FROM_BYTES ? deflateRawSync(json, DEFLATE_OPTIONS) : null;
    const bodyBytes = deflated ? deflated.length : jsonBytes;
    const signedBytes = 1 + KEY_ID_BYTES + bodyBytes;
    // Before the cursor's bytes: the MAC's pad and the scope, which the MAC covers and the wire
    // form leaves out.
    const start = macRoom(scope);
    const wire = Buffer.allocUnsafe(start + signedBytes + MAC_BYTES);
    if (scope !== '') wire.write(scopeLine(scope), HmacSha256.PAD_BYTES, 'utf8');
    wire[start] = deflated ? VERSION_DEFLATED : VERSION_JSON;
    this.signingKey.id.copy(wire, start + 1);
    if (deflated) deflated.copy(wire, start + 1 + KEY_ID_BYTES);
    else wire.write(json, start + 1 + KEY_ID_BYTES, 'utf8');
    const macAt = start + signedBytes;
    wire.write(this.signingKey.mac.digestAfterPad(wire, macAt), macAt, MAC_BYTES, 'latin1');
    return wire.toString('base64url', start);
  }

  /** Verifies and parses a cursor; throws BAD_USER_INPUT with reason CURSOR_INVALID or CURSOR_EXPIRED. */
  decode(cursor: string, argument: 'after' | 'before', nowMs: number = Date.now(), scope = ''): TraversalCursor {
    const malformed = () => badUserInput(`${argument}: malformed cursor`, 'CURSOR_INVALID', argument);
    if (cursor.length === 0 || cursor.length > 16_384 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw malformed();
    const bytes = Buffer.from(cursor, 'base64url');
    const version = bytes[0];
    if (bytes.length <= 1 + KEY_ID_BYTES + MAC_BYTES || (version !== VERSION_JSON && version !== VERSION_DEFLATED)) throw malformed();

    const signed = bytes.subarray(0, bytes.length - MAC_BYTES);
    const mac = bytes.subarray(bytes.length - MAC_BYTES);
    const key = this.keys.get(bytes.subarray(1, 1 + KEY_ID_BYTES).toString('hex'));
    if (!key || !timingSafeEqual(mac, mac16(key.mac, signed, scope))) {
      throw badUserInput(`${argument}: cursor signature mismatch`, 'CURSOR_INVALID', argument);
    }
    if (key.untilMs < nowMs) {
      throw badUserInput(`${argument}: cursor signed with a retired key; restart the traversal from the first page`, 'CURSOR_EXPIRED', argument);
    }

    let parsed: unknown;
    try {
      const body = signed.subarray(1 + KEY_ID_BYTES);
      const json = version === VERSION_DEFLATED ? inflateRawSync(body, { maxOutputLength: MAX_PAYLOAD_BYTES }) : body;
      parsed = JSON.parse(json.toString('utf8'));
    } catch {
      throw malformed();
    }
    const result = payloadSchema.safeParse(parsed);
    if (!result.success) throw malformed();
    const payload = result.data as CursorPayload;
    if (payload.i * 1000 + this.options.ttlSeconds * 1000 < nowMs) {
      throw badUserInput(`${argument}: cursor expired; restart the traversal from the first page`, 'CURSOR_EXPIRED', argument);
    }
    return fromPayload(payload);
  }
}

/** Raised when a cursor is used with another filter or order than it was issued for. */
export function cursorForDifferentQuery(argument: 'after' | 'before'): GatewayError {
  return new GatewayError(ErrorCode.BadUserInput, `${argument}: cursor was issued for a different query (filter or order)`, {
    reason: 'CURSOR_INVALID',
    field: argument,
  });
}

function keyId(secret: string): Buffer {
  return createHash('sha256').update('audit-gateway cursor key id').update(secret).digest().subarray(0, KEY_ID_BYTES);
}

/** What the MAC covers before a cursor's bytes when it has a scope. */
function scopeLine(scope: string): string {
  return `audit-gateway cursor scope\u0000${scope}\u0000`;
}

/** Bytes before a cursor's own in the buffer it is signed in: the MAC's pad, then the scope line. */
function macRoom(scope: string): number {
  // Unscoped cursors (a gateway without authentication) keep the plain MAC.
  return HmacSha256.PAD_BYTES + (scope === '' ? 0 : Buffer.byteLength(scopeLine(scope), 'utf8'));
}

/** The MAC of a received cursor's signed bytes under `scope`, as `encode` wrote it. */
function mac16(mac: HmacSha256, signed: Buffer, scope: string): Buffer {
  const start = macRoom(scope);
  const message = Buffer.allocUnsafe(start + signed.length);
  if (scope !== '') message.write(scopeLine(scope), HmacSha256.PAD_BYTES, 'utf8');
  signed.copy(message, start);
  return Buffer.from(mac.digestAfterPad(message, message.length).slice(0, MAC_BYTES), 'latin1');
}
