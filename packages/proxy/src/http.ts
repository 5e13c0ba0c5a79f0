/**
 * The proxy's undici Agent for its own upstream calls (fan-out pages, version documents, token injection).
 * Failures of those calls become OcxErrors through the SDK's OcxError.from, URLs for logs through its safeUrl;
 * Keystone is reached through the SDK's TokenValidator (keystone.ts).
 */
import { Agent } from 'undici';

export function createAgent(): Agent {
  return new Agent({
    connections: 64,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: 10_000 },
    allowH2: false,
  });
}
