/** Swift's records (accounts, containers, objects), naming rules, metadata headers and time formats. */

export interface AccountRow {
  id: string; // 'AUTH_<project>'
  meta: Record<string, string>;
  /** Seconds since the epoch (float), Swift's X-Timestamp. */
  timestamp: number;
}

export interface ContainerRow {
  id: string; // '<account>/<container>'
  account: string;
  name: string;
  meta: Record<string, string>;
  read: string | null;
  write: string | null;
  timestamp: number;
  putTimestamp: number;
}

export interface SloSegment {
  /** '/container/object' */
  name: string;
  bytes: number;
  hash: string;
  content_type: string;
  last_modified: string;
  /** Optional 'start-end' byte range within the segment. */
  range?: string;
}

export interface ObjectRow {
  id: string; // '<account>/<container>/<object>'
  account: string;
  container: string;
  name: string;
  blob: string | null;
  size: number;
  etag: string;
  contentType: string;
  meta: Record<string, string>;
  /** Content-Disposition, Content-Encoding, X-Object-Manifest and friends, by lower-case header name. */
  headers: Record<string, string>;
  timestamp: number;
  deleteAt: number | null;
  /** Present on static large object manifests. */
  slo: SloSegment[] | null;
}

export const LIMITS = {
  maxFileSize: 5368709122,
  maxMetaNameLength: 128,
  maxMetaValueLength: 256,
  maxMetaCount: 90,
  maxMetaOverallSize: 4096,
  listingLimit: 10000,
  maxObjectNameLength: 1024,
  maxContainerNameLength: 256,
  maxManifestSegments: 1000,
  maxManifestSize: 8388608,
} as const;

export const containerId = (account: string, container: string) => `${account}/${container}`;
export const objectId = (account: string, container: string, name: string) => `${account}/${container}/${name}`;

export function nowTs(): number {
  return Math.round(Date.now() * 100) / 100000;
}

/** X-Timestamp: seconds with five decimals. */
export const xTimestamp = (ts: number) => ts.toFixed(5);
/** last_modified in listings: ISO without zone, microseconds. */
export const listingTime = (ts: number) =>
  `${new Date(Math.floor(ts * 1000)).toISOString().slice(0, 23)}${String(Math.floor(ts * 1e6) % 1000).padStart(3, '0')}`;
/** Last-Modified header: HTTP date, rounded up to the second as Swift does. */
export const httpDate = (ts: number) => new Date(Math.ceil(ts) * 1000).toUTCString();

/** 'X-Object-Meta-Foo-Bar' style name for a stored lower-case meta key. */
export function metaHeader(kind: 'Account' | 'Container' | 'Object', key: string): string {
  return `X-${kind}-Meta-${key
    .split('-')
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : p))
    .join('-')}`;
}

const MIME: Record<string, string> = {
  txt: 'text/plain',
  html: 'text/html',
  htm: 'text/html',
  json: 'application/json',
  xml: 'application/xml',
  css: 'text/css',
  js: 'application/javascript',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  zip: 'application/zip',
  iso: 'application/x-iso9660-image',
  qcow2: 'application/octet-stream',
  img: 'application/octet-stream',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  csv: 'text/csv',
  md: 'text/markdown',
};

/** Content type from the object name's extension, as Swift guesses when none is given. */
export function guessContentType(name: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  return (ext && MIME[ext]) || 'application/octet-stream';
}
