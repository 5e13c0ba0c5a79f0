import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';

/** A CONFIG_INVALID error; the message already names the file, cloud and key where they are known. */
export function configError(
  message: string,
  where: { file?: string | undefined; cloud?: string | undefined; key?: string | undefined } = {},
  cause?: unknown,
): OcxError {
  return new OcxError(ErrorCode.CONFIG_INVALID, message, where, cause === undefined ? {} : { cause });
}

/** `file: cloud 'x': key 'auth.auth_url': problem` — the one shape of every config error message. */
export function locate(file: string | undefined, cloud: string | undefined, key: string | undefined): string {
  const parts: string[] = [];
  if (file) parts.push(file);
  if (cloud !== undefined) parts.push(`cloud '${cloud}'`);
  if (key) parts.push(`key '${key}'`);
  return parts.join(': ');
}
