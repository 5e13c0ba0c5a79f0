import { isOcxError } from '../errors/ocx-error.ts';
import type { CallOptions } from '../services/common.ts';
import type { ObjectStoreClient } from '../services/object-store.ts';

/** What the cluster's `/info` says about large objects (defaults when a value or `/info` itself is missing). */
export interface SwiftLimits {
  /** The cluster has the SLO middleware (static large objects). */
  slo: boolean;
  minSegmentSize: number;
  maxManifestSegments: number;
  /** Largest single object (5 GiB in a default Swift). */
  maxFileSize: number;
}

const DEFAULTS: SwiftLimits = {
  slo: true,
  minSegmentSize: 1,
  maxManifestSegments: 1000,
  maxFileSize: 5 * 1024 ** 3,
};

/** The `/info` URL of a Swift account endpoint: `/info` sits at the root, before `/v1/AUTH_<project>`. */
export function infoUrl(accountEndpoint: string): string {
  const u = new URL(accountEndpoint);
  const root = u.pathname.replace(/\/v1(\.0)?(\/.*)?$/, '');
  return `${u.origin}${root}/info`;
}

function positive(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

/**
 * Read the cluster limits from `/info` (unauthenticated, as swiftclient does). A cluster that hides `/info`
 * (404/403) gets Swift's defaults; other failures (timeout, cancel, unreachable) are thrown.
 */
export async function swiftLimits(store: ObjectStoreClient, opts?: CallOptions): Promise<SwiftLimits> {
  const endpoint = await store.http.endpoint({
    ...(opts?.signal ? { signal: opts.signal } : {}),
    ...(opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  let doc: Record<string, Record<string, unknown> | undefined>;
  try {
    doc = await store.http.getJson(infoUrl(endpoint), {
      unauthenticated: true,
      signal: opts?.signal,
      timeoutMs: opts?.timeoutMs,
    });
  } catch (err) {
    if (isOcxError(err) && (err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN')) return { ...DEFAULTS };
    throw err;
  }
  const slo = doc?.slo;
  return {
    slo: slo !== undefined,
    minSegmentSize: positive(slo?.min_segment_size, DEFAULTS.minSegmentSize),
    maxManifestSegments: positive(slo?.max_manifest_segments, DEFAULTS.maxManifestSegments),
    maxFileSize: positive(doc?.swift?.max_file_size, DEFAULTS.maxFileSize),
  };
}
