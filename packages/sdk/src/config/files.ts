import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { configError, locate } from './errors.ts';

/** A parsed config file: where it came from and its top-level mapping. */
export interface ConfigFile {
  path: string;
  data: Record<string, unknown>;
}

export interface SearchPathOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
}

const SUFFIXES = ['.yaml', '.yml', '.json'];

/**
 * Bounds on what a config file may cost to read: a clouds.yaml of thousands of clouds is well under 1 MiB, and no
 * setting nests deeper than a few levels. Past them the file is refused (CONFIG_INVALID) instead of eating memory,
 * time or the stack.
 */
export const CONFIG_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 64, maxAliasCount: 100 } as const;

/** openstacksdk's search directories: the current directory, the user's config dir, the site config dir. */
export function searchDirectories(opts: SearchPathOptions): string[] {
  const dirs = [opts.cwd];
  const xdg = opts.env.XDG_CONFIG_HOME;
  if (xdg) dirs.push(join(xdg, 'openstack'));
  dirs.push(join(opts.home, '.config', 'openstack'));
  dirs.push('/etc/openstack');
  return [...new Set(dirs)];
}

/** Candidate paths for `clouds`, `secure` or `clouds-public`, in the order they are tried. */
export function candidateFiles(base: string, opts: SearchPathOptions, override?: string): string[] {
  const files: string[] = [];
  if (override) files.push(override);
  for (const dir of searchDirectories(opts)) for (const suffix of SUFFIXES) files.push(join(dir, base + suffix));
  return files;
}

/**
 * Read the first file of `candidates` that exists and can be read. Unreadable files (EACCES) are skipped like
 * openstacksdk does; a file that exists but does not parse is an error that names it (openstacksdk only warns and
 * silently ignores the user's clouds, which is the worse surprise).
 */
export function loadFirst(candidates: string[]): ConfigFile | undefined {
  for (const path of candidates) {
    let text: string;
    try {
      const size = statSync(path).size;
      if (size > CONFIG_LIMITS.maxBytes) {
        throw configError(
          `${path}: the file is ${size} bytes, more than the ${CONFIG_LIMITS.maxBytes} a config file may have`,
          { file: path },
        );
      }
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EISDIR') continue;
      if ((err as { code?: unknown }).code === 'CONFIG_INVALID') throw err;
      throw configError(`cannot read ${path}: ${(err as Error).message}`, { file: path }, err);
    }
    return { path, data: parseConfigText(path, text) };
  }
  return undefined;
}

export function parseConfigText(path: string, text: string): Record<string, unknown> {
  const kind = path.endsWith('.json') ? 'JSON' : 'YAML';
  let data: unknown;
  try {
    data = kind === 'JSON' ? JSON.parse(text) : parseYamlStrict(path, text);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'CONFIG_INVALID') throw err;
    const firstLine = (err as Error).message.split('\n')[0];
    const why = err instanceof RangeError || /call stack/.test(firstLine ?? '') ? 'nested too deeply' : firstLine;
    throw configError(`${path}: not valid ${kind}: ${why}`, { file: path }, err);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw configError(`${path}: expected a mapping at the top level (with a 'clouds' key), got ${describe(data)}`, {
      file: path,
    });
  }
  const deep = tooDeep(data, CONFIG_LIMITS.maxDepth);
  if (deep) {
    const { cloud, key } = whereIn(deep);
    throw configError(`${locate(path, cloud, key)}: nested more than ${CONFIG_LIMITS.maxDepth} levels deep`, {
      file: path,
      cloud,
      key,
    });
  }
  return data as Record<string, unknown>;
}

/**
 * YAML with duplicate keys refused (the YAML spec forbids them; silently keeping one of two passwords is worse) and
 * aliases bounded (a "billion laughs" file expands a few lines into gigabytes). Errors name the cloud and key.
 */
function parseYamlStrict(path: string, text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const { cloud, key } = whereIn(pathAt(doc.contents, err.pos[0]));
    const line = err.linePos?.[0];
    const why =
      err.code === 'DUPLICATE_KEY'
        ? `the key appears twice${line ? ` (again at line ${line.line})` : ''}`
        : err.message.split('\n')[0];
    throw configError(`${locate(path, cloud, key)}: not valid YAML: ${why}`, { file: path, cloud, key }, err);
  }
  try {
    return doc.toJS({ maxAliasCount: CONFIG_LIMITS.maxAliasCount });
  } catch (e) {
    const msg = (e as Error).message;
    const why = /alias/i.test(msg) ? `more than ${CONFIG_LIMITS.maxAliasCount} alias expansions` : msg.split('\n')[0];
    throw configError(`${path}: not valid YAML: ${why}`, { file: path }, e);
  }
}

/** The key path (`clouds`, name, keys...) of the node at `offset` in a YAML document. */
function pathAt(node: unknown, offset: number, path: (string | number)[] = []): (string | number)[] {
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const k = isScalar(item.key) ? String(item.key.value) : '?';
      const kr = (item.key as { range?: [number, number, number] } | null)?.range;
      if (kr && offset >= kr[0] && offset <= kr[1]) return [...path, k];
      const vr = (item.value as { range?: [number, number, number] } | null)?.range;
      if (vr && offset >= vr[0] && offset <= vr[2]) return pathAt(item.value, offset, [...path, k]);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const r = (item as { range?: [number, number, number] } | null)?.range;
      if (r && offset >= r[0] && offset <= r[2]) path = pathAt(item, offset, [...path, i]);
    });
  }
  return path;
}

/** `['clouds', 'c1', 'auth', 'auth_url']` → cloud 'c1', key 'auth.auth_url'; other paths → key only. */
function whereIn(path: (string | number)[]): { cloud: string | undefined; key: string | undefined } {
  const fmt = (parts: (string | number)[]) =>
    parts.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${p}` : p), '') ||
    undefined;
  if (path[0] === 'clouds' && typeof path[1] === 'string') return { cloud: path[1], key: fmt(path.slice(2)) };
  return { cloud: undefined, key: fmt(path) };
}

/** The path to the first value nested deeper than `max` levels, or undefined (iterative: no recursion to blow). */
function tooDeep(root: unknown, max: number): (string | number)[] | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: root, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (path.length > max) return path;
    if (Array.isArray(v)) v.forEach((x, i) => void stack.push({ v: x, path: [...path, i] }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
  }
  return undefined;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
