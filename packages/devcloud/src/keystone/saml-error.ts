/** Why the SP refused an assertion; the message is safe to show the client. */
export class SamlError extends Error {}
