import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configError } from './errors.ts';

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
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EISDIR') continue;
      throw configError(`cannot read ${path}: ${(err as Error).message}`, { file: path }, err);
    }
    return { path, data: parseConfigText(path, text) };
  }
  return undefined;
}

export function parseConfigText(path: string, text: string): Record<string, unknown> {
  let data: unknown;
  try {
    if (path.endsWith('.json')) data = JSON.parse(text);
    else data = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const firstLine = (err as Error).message.split('\n')[0];
    throw configError(
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${firstLine}`,
      { file: path },
      err,
    );
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw configError(`${path}: expected a mapping at the top level (with a 'clouds' key), got ${describe(data)}`, {
      file: path,
    });
  }
  return data as Record<string, unknown>;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
