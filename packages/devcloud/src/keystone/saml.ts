/**
 * SAML2 for K2K: the IdP builds a Response with one signed Assertion (xml-crypto, RSA-SHA256, exclusive c14n),
 * wraps it in an ECP SOAP envelope; the SP verifies it against the IdP's certificate (never the KeyInfo in the
 * message), and reads the data only from what the signature covers (the signed reference), so a wrapped or
 * tampered assertion is rejected.
 */
import { randomBytes } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import xpath from 'xpath';
import { SamlError } from './saml-error.ts';
import { certPemFromB64 } from './x509.ts';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  ecp: 'urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xs: 'http://www.w3.org/2001/XMLSchema',
} as const;

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export function xmlEscape(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

const samlId = (): string => `_${randomBytes(16).toString('hex')}`;
const instant = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

export interface AssertionInput {
  issuer: string;
  /** The SP's assertion consumer (sp_url): Response Destination and SubjectConfirmation Recipient. */
  recipient: string;
  nameId: string;
  attributes: [string, string[]][];
  ttlSeconds: number;
  now?: Date;
}

/** An unsigned samlp:Response holding one saml:Assertion. */
export function buildResponse(input: AssertionInput): { xml: string; assertionId: string } {
  const now = input.now ?? new Date();
  const until = instant(new Date(now.getTime() + input.ttlSeconds * 1000));
  const assertionId = samlId();
  const issuer = `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${xmlEscape(input.issuer)}</saml:Issuer>`;
  const attrs = input.attributes
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${xmlEscape(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${values
          .map((v) => `<saml:AttributeValue xsi:type="xs:string">${xmlEscape(v)}</saml:AttributeValue>`)
          .join('')}</saml:Attribute>`,
    )
    .join('');
  const xml =
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" xmlns:xsi="${NS.xsi}" xmlns:xs="${NS.xs}" ` +
    `ID="${samlId()}" Version="2.0" IssueInstant="${instant(now)}" Destination="${xmlEscape(input.recipient)}">` +
    issuer +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion ID="${assertionId}" Version="2.0" IssueInstant="${instant(now)}">` +
    issuer +
    `<saml:Subject><saml:NameID>${xmlEscape(input.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData NotOnOrAfter="${until}" Recipient="${xmlEscape(input.recipient)}"/>` +
    `</saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${instant(now)}" NotOnOrAfter="${until}"/>` +
    `<saml:AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="${samlId()}" SessionNotOnOrAfter="${until}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef>` +
    `<saml:AuthenticatingAuthority>${xmlEscape(input.issuer)}</saml:AuthenticatingAuthority></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` +
    `</saml:Assertion></samlp:Response>`;
  return { xml, assertionId };
}

/** Sign the Assertion (enveloped signature placed right after its Issuer, as the SAML schema requires). */
export function signAssertion(responseXml: string, assertionId: string, keyPem: string, certB64: string): string {
  const sig = new SignedXml({
    privateKey: keyPem,
    publicCert: certPemFromB64(certB64),
    canonicalizationAlgorithm: EXC_C14N,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  });
  sig.addReference({
    xpath: `//*[local-name(.)='Assertion' and @ID='${assertionId}']`,
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(responseXml, {
    prefix: 'ds',
    location: {
      reference: `//*[local-name(.)='Assertion' and @ID='${assertionId}']/*[local-name(.)='Issuer']`,
      action: 'after',
    },
  });
  return sig.getSignedXml();
}

/** The ECP SOAP envelope keystone returns from /v3/auth/OS-FEDERATION/saml2/ecp. */
export function ecpEnvelope(signedResponseXml: string, relayState: string): string {
  return (
    `<S:Envelope xmlns:S="${NS.soap}"><S:Header>` +
    `<ecp:RelayState xmlns:ecp="${NS.ecp}" S:actor="http://schemas.xmlsoap.org/soap/actor/next" S:mustUnderstand="1">${xmlEscape(relayState)}</ecp:RelayState>` +
    `</S:Header><S:Body>${signedResponseXml}</S:Body></S:Envelope>`
  );
}

export function idpMetadata(entityId: string, ssoUrl: string, certB64: string): string {
  return (
    `<md:EntityDescriptor xmlns:md="${NS.md}" xmlns:ds="${NS.ds}" entityID="${xmlEscape(entityId)}">` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:URI" Location="${xmlEscape(ssoUrl)}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}

export { SamlError };

/** libxml2's default nesting limit, which mod_auth_mellon's parser (lasso) applies. */
const MAX_XML_DEPTH = 256;

/**
 * Does `text` nest elements deeper than `max`? One pass over the markup, no parse: a 60 000-level envelope
 * would otherwise cost the DOM parser and XPath seconds each.
 */
export function xmlNestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let i = text.indexOf('<');
  while (i !== -1 && i < text.length) {
    const next = text[i + 1];
    if (text.startsWith('<!--', i)) i = text.indexOf('-->', i + 4);
    else if (text.startsWith('<![CDATA[', i)) i = text.indexOf(']]>', i + 9);
    else if (next === '?' || next === '!') i = text.indexOf('>', i + 2);
    else if (next === '/') {
      depth--;
      i = text.indexOf('>', i + 2);
    } else {
      // a start tag: find its end outside quoted attribute values
      let j = i + 1;
      let quote = '';
      for (; j < text.length; j++) {
        const c = text[j];
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
      }
      if (text[j - 1] !== '/' && ++depth > max) return true;
      i = j;
    }
    if (i === -1) return false;
    i = text.indexOf('<', i + 1);
  }
  return false;
}

function parseXml(text: string): Document {
  if (/<!DOCTYPE/i.test(text)) throw new SamlError('SAML message rejected: DOCTYPE is not allowed.');
  if (xmlNestedDeeperThan(text, MAX_XML_DEPTH)) {
    throw new SamlError(`SAML message rejected: elements nested more than ${MAX_XML_DEPTH} levels deep.`);
  }
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (msg: string) => errors.push(msg),
      fatalError: (msg: string) => errors.push(msg),
    },
  }).parseFromString(text, 'text/xml');
  if (errors.length > 0 || !doc?.documentElement) throw new SamlError('SAML message rejected: not well-formed XML.');
  return doc as unknown as Document;
}

const select = (expr: string, node: Node): Element[] => xpath.select(expr, node) as unknown as Element[];
const byNs = (ns: string, local: string) => `*[local-name(.)='${local}' and namespace-uri(.)='${ns}']`;

/** The IdP's signing certificate(s) from its metadata document, base64 DER. */
export function certificatesFromMetadata(xml: string): { entityId: string; certs: string[] } {
  const doc = parseXml(xml);
  const entity = doc.documentElement;
  const entityId = entity.getAttribute('entityID') ?? '';
  const certs = select(`//${byNs(NS.ds, 'X509Certificate')}`, doc).map((n) =>
    (n.textContent ?? '').replace(/\s+/g, ''),
  );
  return { entityId, certs };
}

export interface VerifiedAssertion {
  id: string;
  issuer: string;
  nameId: string;
  attributes: Record<string, string[]>;
  notOnOrAfter: Date;
  relayState?: string;
}

export interface VerifyOptions {
  /** Certificates (base64 DER) trusted for this issuer, or undefined when the issuer is unknown. */
  certsFor(issuer: string): Promise<string[] | undefined>;
  /** URLs that are this SP: the assertion's Recipient/Destination must be one of them. */
  spUrls: string[];
  /** Accepted <Audience> values when the assertion has an AudienceRestriction. */
  audiences: string[];
  now?: Date;
  clockSkewMs?: number;
}

function parseTime(value: string | null, what: string): Date | undefined {
  if (value === null || value === '') return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new SamlError(`SAML assertion rejected: bad ${what} time.`);
  return d;
}

/** Verify an ECP envelope (or a bare samlp:Response) as the SP; returns what the signature covers. */
export async function verifyResponse(xml: string, opts: VerifyOptions): Promise<VerifiedAssertion> {
  const doc = parseXml(xml);
  const relay = select(`//${byNs(NS.ecp, 'RelayState')}`, doc)[0]?.textContent ?? undefined;
  const responses = select(`//${byNs(NS.samlp, 'Response')}`, doc);
  if (responses.length !== 1) throw new SamlError('SAML message rejected: expected exactly one samlp:Response.');
  const response = responses[0] as Element;
  const status = select(`${byNs(NS.samlp, 'Status')}/${byNs(NS.samlp, 'StatusCode')}`, response)[0]?.getAttribute(
    'Value',
  );
  if (status && status !== 'urn:oasis:names:tc:SAML:2.0:status:Success')
    throw new SamlError(`SAML response rejected: status ${status}.`);
  const destination = response.getAttribute('Destination');
  if (destination && !opts.spUrls.includes(destination)) {
    throw new SamlError('SAML response rejected: Destination is not this service provider.');
  }
  const assertions = select(`//${byNs(NS.saml, 'Assertion')}`, doc);
  if (assertions.length !== 1) throw new SamlError('SAML message rejected: expected exactly one saml:Assertion.');
  const assertion = assertions[0] as Element;
  if (assertion.parentNode !== response)
    throw new SamlError('SAML message rejected: the Assertion is not inside the Response.');
  const assertionId = assertion.getAttribute('ID');
  if (!assertionId) throw new SamlError('SAML assertion rejected: no ID.');
  const issuer = select(byNs(NS.saml, 'Issuer'), assertion)[0]?.textContent?.trim();
  if (!issuer) throw new SamlError('SAML assertion rejected: no Issuer.');

  const signatures = select(byNs(NS.ds, 'Signature'), assertion);
  if (signatures.length !== 1) throw new SamlError('SAML assertion rejected: the Assertion is not signed.');
  const certs = await opts.certsFor(issuer);
  if (!certs || certs.length === 0)
    throw new SamlError(`SAML assertion rejected: unknown identity provider ${issuer}.`);

  let signedXml: string | undefined;
  for (const cert of certs) {
    const sig = new SignedXml({ publicCert: certPemFromB64(cert), getCertFromKeyInfo: () => null });
    sig.loadSignature(signatures[0] as unknown as Node);
    const refs = sig.getReferences();
    if (refs.length !== 1 || refs[0]?.uri !== `#${assertionId}`) {
      throw new SamlError('SAML assertion rejected: the signature does not reference this Assertion.');
    }
    let ok = false;
    try {
      ok = sig.checkSignature(xml);
    } catch {
      ok = false;
    }
    if (ok) {
      signedXml = sig.getSignedReferences()[0];
      break;
    }
  }
  if (!signedXml)
    throw new SamlError(
      'SAML assertion rejected: signature verification failed (tampered, or not signed by the trusted IdP).',
    );

  // From here on, read only the XML the signature covers.
  const signedDoc = parseXml(signedXml);
  const signed = signedDoc.documentElement;
  if (
    signed.localName !== 'Assertion' ||
    signed.namespaceURI !== NS.saml ||
    signed.getAttribute('ID') !== assertionId
  ) {
    throw new SamlError('SAML assertion rejected: the signed element is not the Assertion.');
  }
  const signedIssuer = select(byNs(NS.saml, 'Issuer'), signed)[0]?.textContent?.trim();
  if (signedIssuer !== issuer) throw new SamlError('SAML assertion rejected: Issuer mismatch.');

  const now = opts.now ?? new Date();
  const skew = opts.clockSkewMs ?? 60_000;
  const subjectData = select(
    `${byNs(NS.saml, 'Subject')}/${byNs(NS.saml, 'SubjectConfirmation')}/${byNs(NS.saml, 'SubjectConfirmationData')}`,
    signed,
  )[0];
  const recipient = subjectData?.getAttribute('Recipient');
  if (!recipient || !opts.spUrls.includes(recipient))
    throw new SamlError('SAML assertion rejected: Recipient is not this service provider.');
  let notOnOrAfter = parseTime(subjectData?.getAttribute('NotOnOrAfter') ?? null, 'NotOnOrAfter');
  const conditions = select(byNs(NS.saml, 'Conditions'), signed)[0];
  if (conditions) {
    const nb = parseTime(conditions.getAttribute('NotBefore'), 'NotBefore');
    const na = parseTime(conditions.getAttribute('NotOnOrAfter'), 'NotOnOrAfter');
    if (nb && nb.getTime() - skew > now.getTime())
      throw new SamlError('SAML assertion rejected: not yet valid (NotBefore).');
    if (na && (!notOnOrAfter || na < notOnOrAfter)) notOnOrAfter = na;
    const audiences = select(`${byNs(NS.saml, 'AudienceRestriction')}/${byNs(NS.saml, 'Audience')}`, conditions).map(
      (a) => a.textContent?.trim() ?? '',
    );
    if (audiences.length > 0 && !audiences.some((a) => opts.audiences.includes(a))) {
      throw new SamlError('SAML assertion rejected: Audience is not this service provider.');
    }
  }
  if (!notOnOrAfter) throw new SamlError('SAML assertion rejected: no validity window (NotOnOrAfter).');
  if (notOnOrAfter.getTime() + skew <= now.getTime())
    throw new SamlError('SAML assertion rejected: expired (NotOnOrAfter).');

  const nameId = select(`${byNs(NS.saml, 'Subject')}/${byNs(NS.saml, 'NameID')}`, signed)[0]?.textContent?.trim() ?? '';
  const attributes: Record<string, string[]> = {};
  for (const attr of select(`${byNs(NS.saml, 'AttributeStatement')}/${byNs(NS.saml, 'Attribute')}`, signed)) {
    const name = attr.getAttribute('Name');
    if (!name) continue;
    const values = select(byNs(NS.saml, 'AttributeValue'), attr).map((v) => v.textContent ?? '');
    attributes[name] = [...(attributes[name] ?? []), ...values];
  }
  return {
    id: assertionId,
    issuer,
    nameId,
    attributes,
    notOnOrAfter,
    ...(relay !== undefined ? { relayState: relay } : {}),
  };
}
