/**
 * devcloud's fault bodies against the SDK's wire module. devcloud keeps its own copy of the fault tables (reason
 * phrases, Nova's fault names, Neutron's types) because it is the independent check on the SDK and must not import
 * it; this test keeps the two copies in agreement: each devcloud renderer, for each status either side names, gives
 * the body the SDK's encodeFault writes for that service (or, for shapes only devcloud writes, one the SDK's decoder
 * reads the message and status back from). The renderers are devcloud-internal, hence the paths into its src/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiFault } from '../../devcloud/src/fault.ts';
import * as devcloud from '../../devcloud/src/fault-bodies.ts';
import { OcxError } from '../src/errors/index.ts';
import { decodeFault, encodeFault, NEUTRON_FAULT_TYPES } from '../src/wire/index.ts';

/** Every status either side names (508 is the proxy's own: devcloud never sends it). */
const STATUSES = [
  400, 401, 403, 404, 405, 406, 409, 410, 411, 412, 413, 415, 416, 422, 429, 431, 500, 501, 502, 503, 504, 505,
];
const MESSAGE = 'Volume 42 could not be found.';

/** The SDK reads `body` back as an answer with `status`: the message and the status survive. */
function assertReadBack(status: number, body: string, label: string): void {
  assert.ok(decodeFault(body).message?.includes(MESSAGE), `${label} ${status}: message`);
  const err = OcxError.from({ status, body });
  assert.equal(err.status, status, `${label} ${status}: status`);
  assert.ok(err.serverMessage?.includes(MESSAGE), `${label} ${status}: serverMessage`);
}

describe("wire: devcloud's fault bodies agree with the SDK's", () => {
  it('Nova and Cinder: the same fault name for every status', () => {
    for (const status of STATUSES) {
      const sdk = encodeFault('compute', status, MESSAGE).body;
      assert.equal(JSON.stringify(devcloud.novaFaultBody(status, MESSAGE)), sdk, `nova ${status}`);
      const cinder = JSON.stringify(devcloud.cinderFaultBody(status, MESSAGE));
      assert.equal(decodeFault(cinder).kind, decodeFault(sdk).kind, `cinder ${status}`);
      assertReadBack(status, cinder, 'cinder');
    }
  });

  it("Neutron: the same webob type for every status the SDK's table names", () => {
    for (const status of STATUSES.filter((s) => NEUTRON_FAULT_TYPES[s] !== undefined)) {
      const body = JSON.stringify(devcloud.neutronFaultBody(new ApiFault(status, MESSAGE)));
      assert.equal(body, encodeFault('network', status, MESSAGE).body, `neutron ${status}`);
      assertReadBack(status, body, 'neutron');
    }
  });

  it('Keystone and webob text: the same reason phrase for every status', () => {
    for (const status of STATUSES) {
      assert.deepEqual(
        devcloud.keystoneFaultBody(status, MESSAGE),
        JSON.parse(encodeFault('identity', status, MESSAGE).body),
        `keystone ${status}`,
      );
      assert.equal(
        devcloud.plainFaultBody(status, MESSAGE).body,
        encodeFault('image', status, MESSAGE).body,
        `text ${status}`,
      );
    }
  });

  it("Glance's pages and Swift's: the SDK reads the message and status back", () => {
    for (const status of STATUSES) {
      assertReadBack(status, devcloud.glanceFaultBody(status, MESSAGE, false).body, 'glance html');
      assertReadBack(status, devcloud.glanceFaultBody(status, MESSAGE, true).body, 'glance json');
      assertReadBack(status, devcloud.swiftFaultPage(status, MESSAGE), 'swift page');
      assertReadBack(status, devcloud.swiftFaultBody(new ApiFault(status, MESSAGE)), 'swift text');
    }
  });
});
