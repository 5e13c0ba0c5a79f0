/** Token ids and stored secrets: tokens are kept by their sha256, passwords and app credential secrets by scrypt. */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
export const auditId = (): string => randomBytes(16).toString('base64url');

// Cheap parameters on purpose (like the real harness's bcrypt rounds = 4): a simulator, not a vault.
const SCRYPT_PARAMS = { N: 256, r: 8, p: 1 };

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(secret, salt, 32, SCRYPT_PARAMS);
  return `scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}
export function checkSecret(secret: string, stored: string | undefined): boolean {
  if (!stored) return false;
  const [, saltB64, keyB64] = stored.split('$');
  if (!saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64');
  const got = scryptSync(secret, Buffer.from(saltB64, 'base64'), expected.length, SCRYPT_PARAMS);
  return timingSafeEqual(expected, got);
}
