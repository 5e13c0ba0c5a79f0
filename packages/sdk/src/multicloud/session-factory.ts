import { exchangesThroughGateway, GatewayApplicationCredentialAuth } from '../gateway-backend/app-credential.ts';
import { createSession } from '../session/session.ts';
import type { SessionFactory } from './types.ts';

/**
 * The SDK's own Session (session/createSession). A cloud with `federation` gets the session layer's
 * Keystone2Keystone plugin built from its home cloud's config; a cloud behind an OCX gateway with only an
 * application credential logs in through that gateway's AuthService; every session shares `ctx.transport` when given
 * (one undici pool per origin for the whole MultiCloud).
 */
export const defaultSessionFactory: SessionFactory = (cloud, ctx) =>
  createSession(cloud, {
    transport: ctx.transport,
    homeCloud: cloud.federation ? (cloud.federation.home ?? ctx.home?.cloud) : undefined,
    auth: exchangesThroughGateway(cloud) ? new GatewayApplicationCredentialAuth(cloud) : undefined,
  });
