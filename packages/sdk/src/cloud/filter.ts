import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { Filters } from './types.ts';

/** Translate a shell glob (fnmatch: `*`, `?`, `[seq]`, `[!seq]`) into an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      body = body.replace(/\\/g, '\\\\').replace(/\^/g, '\\^');
      re += `[${negate ? '^' : ''}${body}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

const GLOB_CHARS = /[*?[]/;

function matchesFilters(item: unknown, filters: Filters): boolean {
  if (typeof item !== 'object' || item === null) return false;
  const obj = item as Record<string, unknown>;
  for (const [key, want] of Object.entries(filters)) {
    const have = key in obj ? obj[key] : (obj.properties as Record<string, unknown> | undefined)?.[key];
    if (typeof want === 'object' && want !== null && !Array.isArray(want)) {
      if (!matchesFilters(have, want as Filters)) return false;
    } else if (have !== want) {
      // Query-string style values ('true', '5') match their typed counterparts.
      if (have === undefined || have === null || String(have) !== String(want)) return false;
    }
  }
  return true;
}

/**
 * shade's `_filter_list`: items whose id or name equals `nameOrId`, plus (when it is a glob) those whose id or name
 * matches it; then items matching every key of `filters` (nested objects compare recursively; keys missing at the
 * top level are looked up in `properties`).
 */
export function filterList<T extends { id: string; name?: string | null }>(
  items: readonly T[],
  nameOrId?: string | null,
  filters?: Filters | null,
): T[] {
  let out = [...items];
  if (nameOrId) {
    const glob = GLOB_CHARS.test(nameOrId) ? globToRegExp(nameOrId) : undefined;
    out = out.filter(
      (e) =>
        e.id === nameOrId ||
        e.name === nameOrId ||
        (glob !== undefined && (glob.test(e.id) || (typeof e.name === 'string' && glob.test(e.name)))),
    );
  }
  if (filters && Object.keys(filters).length > 0) out = out.filter((e) => matchesFilters(e, filters));
  return out;
}

/** At most one match: null for none, AMBIGUOUS for several (shade's `_get_entity`). */
export function single<T extends { id: string }>(matches: readonly T[], what: string, nameOrId: string): T | null {
  if (matches.length === 0) return null;
  if (matches.length > 1) {
    throw new OcxError(ErrorCode.AMBIGUOUS, `more than one ${what} matches "${nameOrId}" (${matches.length} found)`, {
      resourceId: nameOrId,
    });
  }
  return matches[0]!;
}

/** A UUID (with or without dashes): what shade's `use_direct_get` treats as an id. */
export function looksLikeId(value: string): boolean {
  return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value);
}
