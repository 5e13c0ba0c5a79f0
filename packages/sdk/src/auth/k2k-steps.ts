import { ErrorCode } from '../errors/codes.ts';
import { parseFaultMessage } from '../errors/from-response.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import type { HttpResponse } from '../transport/types.ts';
import type { AuthContext } from './types.ts';

/** The steps of the K2K flow, as named in FEDERATION_FAILED errors (`err.step`). */
export const K2KStep = {
  IDP_LOGIN: 'idp-login',
  SERVICE_PROVIDER: 'service-provider',
  ECP_ASSERTION: 'ecp-assertion',
  SP_ASSERTION: 'sp-assertion',
  FEDERATED_AUTH: 'federated-auth',
  PROJECT_LIST: 'project-list',
  PROJECT_SELECTION: 'project-selection',
  RESCOPE: 'rescope',
} as const;
export type K2KStep = (typeof K2KStep)[keyof typeof K2KStep];
const K2K_STEPS = new Set<string>(Object.values(K2KStep));
function isK2KStep(step: string | undefined): boolean {
  return step !== undefined && K2K_STEPS.has(step);
}

/** The FEDERATION_FAILED error of one K2K step towards `serviceProvider`. */
export function k2kFailure(
  serviceProvider: string,
  step: K2KStep,
  message: string,
  ctx: AuthContext,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): OcxError {
  return new OcxError(
    ErrorCode.FEDERATION_FAILED,
    `K2K to service provider ${serviceProvider} failed at step ${step}: ${message}`,
    { cloud: ctx.cloud, region: ctx.region, service: 'identity', step, ...extra },
    cause === undefined ? {} : { cause },
  );
}

/** Run a step; transport errors (UNREACHABLE/TIMEOUT/CANCELLED) keep their code and gain the step name. */
export async function k2kStep<T>(step: K2KStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // A step named by a K2K step inside (the IdP login's own) stays; the transport's generic one (its operation,
    // 'request') gives way to the K2K step, which tells the user more.
    if (isOcxError(err)) throw isK2KStep(err.step) ? err : err.withContext({ step });
    throw err;
  }
}

/** A step's non-success HTTP answer as a FEDERATION_FAILED error carrying the server's message. */
export async function k2kHttpFailure(
  serviceProvider: string,
  step: K2KStep,
  res: HttpResponse,
  what: string,
  ctx: AuthContext,
  hint = '',
): Promise<OcxError> {
  const text = await res.text().catch(() => '');
  const serverMessage = parseFaultMessage(text);
  return k2kFailure(
    serviceProvider,
    step,
    `${what} answered HTTP ${res.status}${serverMessage ? ` (${serverMessage})` : ''}${hint}`,
    ctx,
    { status: res.status, requestId: res.requestId, url: res.url, method: res.method, serverMessage },
  );
}
