import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { openRemoteToken, sealRemoteToken, tokenHash } from '../src/crypto.ts';

test('a sealed remote token opens only with the local token it was sealed under, for the same row', () => {
  const local = randomBytes(24).toString('hex');
  const remote = `gAAAA${randomBytes(40).toString('base64url')}`;
  const sealed = sealRemoteToken(local, remote, 'hash|sp1');
  assert.ok(!sealed.includes(remote));
  assert.ok(!sealed.includes(local));
  assert.equal(openRemoteToken(local, sealed, 'hash|sp1'), remote);
  assert.equal(openRemoteToken(`${local}x`, sealed, 'hash|sp1'), undefined, 'another local token');
  assert.equal(openRemoteToken(local, sealed, 'hash|sp2'), undefined, 'moved to another row');
  const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
  assert.equal(openRemoteToken(local, tampered, 'hash|sp1'), undefined, 'tampered ciphertext');
});

test('token hashes are stable per pepper and reveal nothing of the token', () => {
  const pepper = randomBytes(32);
  const t = randomBytes(24).toString('hex');
  assert.equal(tokenHash(pepper, t), tokenHash(pepper, t));
  assert.notEqual(tokenHash(pepper, t), tokenHash(randomBytes(32), t));
  assert.match(tokenHash(pepper, t), /^[0-9a-f]{64}$/);
  assert.ok(!tokenHash(pepper, t).includes(t));
});
