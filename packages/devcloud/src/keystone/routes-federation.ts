/** Keystone-to-Keystone federation routes: the SAML body parsers, then the IdP side and the SP side. */
import type { FastifyInstance } from 'fastify';
import type { Federation } from './federation.ts';
import type { KeystoneRoutes } from './http.ts';
import { federationIdpRoutes } from './routes-federation-idp.ts';
import { federationSpRoutes } from './routes-federation-sp.ts';

export function federationRoutes(fed: Federation) {
  return (app: FastifyInstance, r: KeystoneRoutes): void => {
    fed.v3 = r.v3;
    for (const type of ['application/vnd.paos+xml', 'text/xml', 'application/xml', 'application/samlassertion+xml']) {
      app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
        done(null, body),
      );
    }

    federationIdpRoutes(app, r, fed);
    federationSpRoutes(app, r, fed);
  };
}
