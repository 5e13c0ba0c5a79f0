import { createSession } from '../session/session.ts';
import type { SessionFactory } from './types.ts';

/**
 * The SDK's own Session (session/createSession). A cloud with `federation` gets the session layer's
 * Keystone2Keystone plugin built from its home cloud's config; every session shares `ctx.transport` when given
 * (one undici pool per origin for the whole MultiCloud).
 */
export const defaultSessionFactory: SessionFactory = (cloud, ctx) =>
  createSession(cloud, {
    transport: ctx.transport,
    homeCloud: cloud.federation ? (cloud.federation.home ?? ctx.home?.cloud) : undefined,
  });
