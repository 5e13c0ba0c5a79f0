/**
 * Token hygiene for the mapping database.
 * - Rows are keyed by HMAC-SHA-256(pepper, local token): the token itself is never stored.
 * - A remote token is sealed with AES-256-GCM under a key derived (HKDF-SHA-256, per-row random salt) from the
 *   local token. Whoever reads the database (or its backups) without the local token cannot recover the remote
 *   one; the pepper only prevents recognising a token one already holds.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

const INFO = Buffer.from('ocx-proxy remote-token v1');

const keyObjects = new WeakMap<Buffer, KeyObject>();

export function tokenHash(pepper: Buffer, token: string): string {
  // Importing the key costs more than the HMAC itself: do it once per pepper.
  let key = keyObjects.get(pepper);
  if (!key) {
    key = createSecretKey(pepper);
    keyObjects.set(pepper, key);
  }
  return createHmac('sha256', key).update(token, 'utf8').digest('hex');
}

function deriveKey(localToken: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(localToken, 'utf8'), salt, INFO, 32));
}

/** `aad` binds the ciphertext to its row (token hash + target) so rows cannot be swapped. */
export function sealRemoteToken(localToken: string, remoteToken: string, aad: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(localToken, salt), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(remoteToken, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', salt, iv, tag, ct].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** undefined when the sealed value was not made with this local token (or was tampered with). */
export function openRemoteToken(localToken: string, sealed: string, aad: string): string | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') return undefined;
  const [salt, iv, tag, ct] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [
    Buffer,
    Buffer,
    Buffer,
    Buffer,
  ];
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(localToken, salt), iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
