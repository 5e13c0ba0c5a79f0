/**
 * The SP side against a real Keystone IdP's output: an ECP envelope and IdP metadata captured from the real
 * Keystone (xmlsec1, rsa-sha1) of the OpenStack harness (test/real) — devcloud's SP must accept it, and refuse
 * it when altered, past its window, or presented to another SP.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { certificatesFromMetadata, verifyResponse } from '../src/keystone/saml.ts';

const envelope = readFileSync(new URL('./fixtures/real-keystone-ecp.xml', import.meta.url), 'utf8');
const metadata = certificatesFromMetadata(
  readFileSync(new URL('./fixtures/real-keystone-idp-metadata.xml', import.meta.url), 'utf8'),
);
const SP_URL = 'http://127.0.0.1:25021/v3/mellon/paosResponse';
const issuedAt = new Date('2026-11-23T09:30:20Z');
const opts = (over: Partial<Parameters<typeof verifyResponse>[1]> = {}) => ({
  certsFor: async (issuer: string) => (issuer === metadata.entityId ? metadata.certs : undefined),
  spUrls: [SP_URL],
  audiences: [SP_URL],
  now: new Date(issuedAt.getTime() + 60_000),
  ...over,
});

test('a real Keystone assertion verifies and yields its attributes', async () => {
  const v = await verifyResponse(envelope, opts());
  assert.equal(v.issuer, 'http://127.0.0.1:25000/v3/OS-FEDERATION/saml2/idp');
  assert.equal(v.nameId, 'demo');
  assert.deepEqual(v.attributes.openstack_user, ['demo']);
  assert.deepEqual(v.attributes.openstack_roles, ['member', 'reader']);
  assert.deepEqual(v.attributes.openstack_user_domain, ['Default']);
  assert.match(v.relayState ?? '', /^\/v3\/OS-FEDERATION\/k2k-relay\//);
});

test('the same assertion, altered, is refused', async () => {
  const altered = envelope.replace('>member</saml:AttributeValue>', '>admin</saml:AttributeValue>');
  assert.notEqual(altered, envelope);
  await assert.rejects(verifyResponse(altered, opts()), /signature verification failed/);
});

test('after NotOnOrAfter it is refused as expired', async () => {
  await assert.rejects(verifyResponse(envelope, opts({ now: new Date(issuedAt.getTime() + 3 * 3600_000) })), /expired/);
});

test('another SP refuses it (Destination/Recipient)', async () => {
  await assert.rejects(
    verifyResponse(envelope, opts({ spUrls: ['http://127.0.0.1:25022/v3/mellon/paosResponse'] })),
    /Destination|Recipient/,
  );
});

test('without a trusted certificate for the issuer it is refused', async () => {
  await assert.rejects(
    verifyResponse(envelope, opts({ certsFor: async () => undefined })),
    /unknown identity provider/,
  );
});
