/** One ApiFault, each service's own fault body: what a client of that service reads on the wire. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiFault } from '../src/fault.ts';
import {
  cinderFaultBody,
  glanceFaultBody,
  keystoneFaultBody,
  neutronFaultBody,
  novaFaultBody,
  plainFaultBody,
  swiftFaultBody,
} from '../src/fault-bodies.ts';

describe('fault bodies', () => {
  it('Nova and Cinder key the body by the fault name; Cinder adds retryAfter to 413', () => {
    assert.deepEqual(novaFaultBody(404, 'Flavor 9 could not be found.'), {
      itemNotFound: { code: 404, message: 'Flavor 9 could not be found.' },
    });
    assert.deepEqual(novaFaultBody(409, 'x'), { conflictingRequest: { code: 409, message: 'x' } });
    assert.deepEqual(novaFaultBody(500, 'x'), { computeFault: { code: 500, message: 'x' } });
    assert.deepEqual(cinderFaultBody(413, 'VolumeLimitExceeded'), {
      overLimit: { code: 413, message: 'VolumeLimitExceeded', retryAfter: '0' },
    });
    assert.deepEqual(cinderFaultBody(400, 'bad'), { badRequest: { code: 400, message: 'bad' } });
  });

  it('Neutron names the type the fault carries, else the webob class of its status', () => {
    const named = new ApiFault(404, 'Network n could not be found.', { type: 'NetworkNotFound' });
    assert.deepEqual(neutronFaultBody(named), {
      NeutronError: { type: 'NetworkNotFound', message: 'Network n could not be found.', detail: '' },
    });
    assert.deepEqual(neutronFaultBody(new ApiFault(503, 'down')), {
      NeutronError: { type: 'HTTPServiceUnavailable', message: 'down', detail: '' },
    });
  });

  it('Keystone: {"error": {code, message, title}}', () => {
    assert.deepEqual(keystoneFaultBody(401, 'The request you have made requires authentication.'), {
      error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
    });
  });

  it("Glance: webob's HTML page (escaped), or JSON when asked", () => {
    const html = glanceFaultBody(404, 'No image found with ID <x>', false);
    assert.equal(html.contentType, 'text/html; charset=UTF-8');
    assert.equal(
      html.body,
      '<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID &lt;x&gt;<br /><br />\n\n\n\n </body>\n</html>',
    );
    const json = glanceFaultBody(409, 'Conflict!', true);
    assert.deepEqual(JSON.parse(json.body), {
      message: 'Conflict!<br /><br />\n\n\n',
      code: '409 Conflict',
      title: 'Conflict',
    });
    assert.equal(plainFaultBody(503, 'm').body, '503 Service Unavailable\n\nm\n\n   ');
  });

  it("Swift: swob's default page, or the exact text the fault carries", () => {
    assert.equal(
      swiftFaultBody(new ApiFault(404)),
      '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>',
    );
    assert.equal(swiftFaultBody(new ApiFault(412, 'Invalid path')), 'Invalid path');
  });
});
