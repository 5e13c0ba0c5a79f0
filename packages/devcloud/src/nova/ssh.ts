/** Real SSH keys for Nova keypairs: generate RSA (PEM private key + OpenSSH public key), parse and fingerprint. */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';

function sshString(buf: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

/** An SSH mpint from big-endian unsigned bytes (leading zero added when the high bit is set). */
function mpint(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

/** A new RSA-2048 key pair as Nova generated them: `ssh-rsa AAAA... Generated-by-Nova` and a PKCS#1 PEM. */
export function generateSshKeyPair(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    mpint(Buffer.from(jwk.e, 'base64url')),
    mpint(Buffer.from(jwk.n, 'base64url')),
  ]);
  return {
    publicKey: `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
  };
}

const SSH_TYPES = new Set([
  'ssh-rsa',
  'ssh-dss',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** Nova's legacy fingerprint of an OpenSSH public key (MD5 of the key blob, colon hex), or undefined if invalid. */
export function sshFingerprint(publicKey: string): string | undefined {
  const parts = publicKey.trim().split(/\s+/);
  const [type, data] = parts;
  if (!type || !data || !SSH_TYPES.has(type)) return undefined;
  const blob = Buffer.from(data, 'base64');
  if (blob.length < 4 || blob.toString('base64').replace(/=+$/, '') !== data.replace(/=+$/, '')) return undefined;
  const n = blob.readUInt32BE(0);
  if (blob.subarray(4, 4 + n).toString() !== type) return undefined;
  return createHash('md5')
    .update(blob)
    .digest('hex')
    .replace(/(..)(?!$)/g, '$1:');
}

/** Fingerprint of an x509 certificate (SHA-1 of the DER, colon hex), or undefined if it does not parse. */
export function x509Fingerprint(pem: string): string | undefined {
  try {
    const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
    if (!m) return undefined;
    const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
    // Must at least contain a public key we can read.
    createPublicKey({ key: pem, format: 'pem' });
    return createHash('sha1')
      .update(der)
      .digest('hex')
      .replace(/(..)(?!$)/g, '$1:');
  } catch {
    return undefined;
  }
}
