import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 over `manifest.json`, with node:crypto. `manifest.sig` holds the 64-byte signature in
 * base64 and a newline; the key is named by its id, the SHA-256 of its SPKI (DER) form in hex.
 */
export const SIGNATURE_ALGORITHM = 'Ed25519';

/** An Ed25519 private key from PEM (PKCS#8); throws naming what is wrong, never echoing the key. */
export function ed25519PrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('not a private key in PEM');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an Ed25519 key is required, not ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  return key;
}

/** An Ed25519 public key from PEM (SPKI); a private key is accepted too, for its public half. */
export function ed25519PublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('not a public key in PEM');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an Ed25519 key is required, not ${key.asymmetricKeyType ?? 'another kind'}`);
  return key;
}

/** The public half of a key pair from either half. */
function publicHalf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** The public key of `key` (private or public) in PEM (SPKI). */
export function publicKeyPem(key: KeyObject): string {
  return publicHalf(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** The key's id: hex SHA-256 of its public key in SPKI DER. */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(publicHalf(key).export({ type: 'spki', format: 'der' })).digest('hex');
}

/**
 * The text of `manifest.sig` for `manifest` (its exact bytes): the signature in base64 on the first
 * line, and the hex SHA-256 of those 64 bytes on the second. The second line adds no security
 * (anyone can recompute it); it tells a damaged signature file from a changed manifest, so that a
 * verifier names the right file.
 */
export function signatureFile(manifest: Buffer, privateKey: KeyObject): string {
  const signature = sign(null, manifest, privateKey);
  return `${signature.toString('base64')}\n${createHash('sha256').update(signature).digest('hex')}\n`;
}

/** The signature `manifest.sig` holds, or why it holds none. */
export function readSignatureFile(text: Buffer): { signature: Buffer } | { problem: string; line: number } {
  const lines = text.toString('latin1').split('\n');
  if (lines.length !== 3 || lines[2] !== '') return { problem: 'not two lines (the signature and its checksum)', line: Math.min(lines.length, 3) };
  if (!/^[A-Za-z0-9+/]{86}==$/.test(lines[0]!)) return { problem: 'the first line is not a base64 Ed25519 signature', line: 1 };
  const signature = Buffer.from(lines[0]!, 'base64');
  // Base64 leaves spare bits in its last character; only the one canonical text stands for the bytes.
  if (signature.toString('base64') !== lines[0]) return { problem: 'the first line is not canonical base64', line: 1 };
  if (createHash('sha256').update(signature).digest('hex') !== lines[1]) return { problem: 'the signature does not match its checksum on the second line', line: 2 };
  return { signature };
}

/** True when `signature` is `publicKey`'s over exactly `manifest`. */
export function verifyManifestSignature(manifest: Buffer, signature: Buffer, publicKey: KeyObject): boolean {
  try {
    return verify(null, manifest, publicKey, signature);
  } catch {
    return false;
  }
}
