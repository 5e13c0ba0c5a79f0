// Failures become OcxErrors in one place (OcxError.from, errors/convert.ts); safeUrl lives beside it.
export { safeUrl } from '../errors/safe-url.ts';

export function isIdempotentMethod(method: string): boolean {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' || m === 'PUT' || m === 'DELETE' || m === 'OPTIONS' || m === 'TRACE';
}
