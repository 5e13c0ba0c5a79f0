/** ocx.auth.v1.AuthService: an application credential of the home Keystone exchanged for a token (for scripts). */
import type { ServiceImpl } from '@connectrpc/connect';
import { type CloudConfig, createSession } from '@ocx/sdk';
import type { AuthService } from '@ocx/sdk/gen/ocx/auth/v1/auth_service_pb';
import { invalidArgument, toConnectError } from '../errors.ts';

export function authHandlers(home: CloudConfig): ServiceImpl<typeof AuthService> {
  return {
    async exchangeApplicationCredential(req, ctx) {
      if (!req.id || !req.secret) throw invalidArgument('id and secret are required');
      const session = createSession({
        ...home,
        authType: 'v3applicationcredential',
        auth: {
          auth_url: home.auth.auth_url,
          application_credential_id: req.id,
          application_credential_secret: req.secret,
        },
      });
      try {
        const access = await session.getAccess({ signal: ctx.signal, timeoutMs: 15_000 });
        return {
          token: access.token,
          expiresAt: BigInt(access.expiresAt.getTime()),
          userId: access.user.id,
          projectId: access.project?.id ?? '',
          projectName: access.project?.name ?? '',
        };
      } catch (err) {
        throw toConnectError(err);
      } finally {
        await session.close();
      }
    },
  };
}
