/** grpc.health.v1.Health: SERVING for the whole server ('') and each served service; NOT_FOUND for others. */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { type Health, HealthCheckResponse_ServingStatus as Status } from '@ocx/sdk/gen/grpc/health/v1/health_pb';

export function healthService(served: () => readonly string[], closing: AbortSignal): ServiceImpl<typeof Health> {
  const statusOf = (service: string): Status => {
    if (service !== '' && !served().includes(service)) {
      throw new ConnectError(`unknown service ${service}`, Code.NotFound);
    }
    return closing.aborted ? Status.NOT_SERVING : Status.SERVING;
  };
  return {
    check(req) {
      return { status: statusOf(req.service) };
    },
    async *watch(req, ctx) {
      yield { status: statusOf(req.service) };
      if (closing.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        ctx.signal.addEventListener('abort', done, { once: true });
        closing.addEventListener('abort', done, { once: true });
      });
      if (closing.aborted && !ctx.signal.aborted) yield { status: Status.NOT_SERVING };
    },
  };
}
