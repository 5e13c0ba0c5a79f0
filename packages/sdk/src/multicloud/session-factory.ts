import type { CloudConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { Session } from '../session/types.ts';
import type { SessionFactory } from './types.ts';

type SessionModule = Record<string, unknown>;
type CreateSession = (cloud: CloudConfig, opts?: Record<string, unknown>) => Session | Promise<Session>;
type K2KFactory = (home: Session, cloud: CloudConfig) => unknown;

/**
 * The SDK's own Session, looked up at run time so multicloud/ does not pin the session layer's exact export names
 * while both are being built. Uses `createSession(cloud, opts)`; for a K2K cloud the home session is passed as
 * `opts.home` and, when auth/ exports `k2kAuthFromSession(home, cloud)`, its plugin as `opts.auth`.
 */
export const defaultSessionFactory: SessionFactory = async (cloud, ctx) => {
  const session = (await import('../session/index.ts')) as SessionModule;
  const auth = (await import('../auth/index.ts')) as SessionModule;
  const create = (session.createSession ?? session.openSession) as CreateSession | undefined;
  if (typeof create !== 'function') {
    throw new OcxError(
      ErrorCode.CONFIG_INVALID,
      'the SDK session layer is not available in this build (no createSession)',
      {
        cloud: cloud.name,
      },
    );
  }
  const opts: Record<string, unknown> = {};
  if (ctx.transport) opts.transport = ctx.transport;
  if (cloud.federation && ctx.home) {
    opts.home = ctx.home;
    const k2k = auth.k2kAuthFromSession as K2KFactory | undefined;
    if (typeof k2k === 'function') opts.auth = k2k(ctx.home, cloud);
  }
  return create(cloud, opts);
};
