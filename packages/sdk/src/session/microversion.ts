import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';

/** '2.79' → [2, 79]; undefined when not a version. */
export function parseVersion(v: string | undefined | null): [number, number] | undefined {
  if (!v) return undefined;
  const m = /^v?(\d+)(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0)];
}

export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a) ?? [0, 0];
  const pb = parseVersion(b) ?? [0, 0];
  return pa[0] - pb[0] || pa[1] - pb[1];
}

/**
 * Resolve a requested microversion against the server's [min, max]:
 * 'latest' → max; an explicit version must lie in the range (same major), else BAD_REQUEST before any call.
 * undefined request → undefined (the server's default, its minimum).
 */
export function negotiateMicroversion(
  serviceType: string,
  requested: string | undefined,
  range: { min?: string | undefined; max?: string | undefined },
): string | undefined {
  if (requested === undefined || requested === '') return undefined;
  if (!range.max) {
    throw new OcxError(
      ErrorCode.BAD_REQUEST,
      `microversion ${requested} requested, but this ${serviceType} endpoint does not support microversions`,
      { service: serviceType },
    );
  }
  if (requested === 'latest') return range.max;
  const want = parseVersion(requested);
  if (!want) throw new OcxError(ErrorCode.BAD_REQUEST, `not a microversion: ${requested}`, { service: serviceType });
  const min = range.min ?? range.max;
  const normalized = `${want[0]}.${want[1]}`;
  if (compareVersions(normalized, min) < 0 || compareVersions(normalized, range.max) > 0) {
    throw new OcxError(
      ErrorCode.BAD_REQUEST,
      `microversion ${normalized} is outside what this ${serviceType} endpoint supports (${min} – ${range.max})`,
      { service: serviceType },
    );
  }
  return normalized;
}

export { microversionHeaders } from '../wire/headers.ts';
