/**
 * Keystone federation mapping rules: remote attributes → local user and groups.
 *
 * A rule matches when every `remote` entry matches. A bare `{type}` entry is a direct mapping: its values fill
 * `{0}`, `{1}`, ... in the rule's `local` entries (in the order of the direct mappings). `any_one_of` /
 * `not_any_of` (optionally `regex: true`) test values; `whitelist` / `blacklist` filter values and then act as a
 * direct mapping. Every matching rule contributes: the first user wins, groups accumulate.
 */
import { badRequest } from './errors.ts';

export interface RemoteRule {
  type: string;
  any_one_of?: string[];
  not_any_of?: string[];
  whitelist?: string[];
  blacklist?: string[];
  regex?: boolean;
}
export interface LocalRule {
  user?: {
    name?: string;
    id?: string;
    email?: string;
    type?: 'ephemeral' | 'local';
    domain?: { id?: string; name?: string };
  };
  group?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  groups?: string;
  domain?: { id?: string; name?: string };
  group_ids?: string;
}
export interface MappingRule {
  local: LocalRule[];
  remote: RemoteRule[];
}

export interface MappedIdentity {
  user?: {
    name: string;
    id?: string;
    email?: string;
    type: 'ephemeral' | 'local';
    domain?: { id?: string; name?: string };
  };
  groupIds: string[];
  groupNames: { name: string; domain: { id?: string; name?: string } }[];
}

export function validateRules(rules: unknown): MappingRule[] {
  if (!Array.isArray(rules) || rules.length === 0)
    throw badRequest("Invalid input for field 'rules': expected a non-empty list of rules.");
  for (const r of rules) {
    const rule = r as Partial<MappingRule>;
    if (
      !rule ||
      typeof rule !== 'object' ||
      !Array.isArray(rule.local) ||
      !Array.isArray(rule.remote) ||
      rule.remote.length === 0
    ) {
      throw badRequest("Invalid input for field 'rules': each rule needs 'local' and 'remote' lists.");
    }
    for (const rem of rule.remote) {
      if (!rem || typeof rem.type !== 'string')
        throw badRequest("Invalid input for field 'rules': every remote entry needs a 'type'.");
    }
  }
  return rules as MappingRule[];
}

function matches(value: string, patterns: string[], regex: boolean): boolean {
  return patterns.some((p) => (regex ? new RegExp(p).test(value) : p === value));
}

function substitute(template: string, direct: string[][]): string | undefined {
  let missing = false;
  const out = template.replace(/\{(\d+)\}/g, (_m, n: string) => {
    const vals = direct[Number(n)];
    if (!vals || vals.length === 0) {
      missing = true;
      return '';
    }
    // A multi-valued direct mapping renders as keystone does: a list literal.
    return vals.length === 1 ? (vals[0] as string) : JSON.stringify(vals);
  });
  return missing ? undefined : out;
}

function splitList(value: string): string[] {
  const v = value.trim();
  if (v.startsWith('[')) {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // fall through
    }
  }
  return v
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Apply the rules to assertion attributes (multi-valued; keys as the SP exposes them). */
export function applyMapping(rules: MappingRule[], attributes: Record<string, string[]>): MappedIdentity {
  const result: MappedIdentity = { groupIds: [], groupNames: [] };
  for (const rule of rules) {
    const direct: string[][] = [];
    let ok = true;
    for (const rem of rule.remote) {
      const values = attributes[rem.type];
      if (!values || values.length === 0) {
        if (rem.not_any_of) continue;
        ok = false;
        break;
      }
      const regex = rem.regex === true;
      if (rem.any_one_of) {
        if (!values.some((v) => matches(v, rem.any_one_of as string[], regex))) ok = false;
      } else if (rem.not_any_of) {
        if (values.some((v) => matches(v, rem.not_any_of as string[], regex))) ok = false;
      } else if (rem.whitelist) {
        direct.push(values.filter((v) => (rem.whitelist as string[]).includes(v)));
      } else if (rem.blacklist) {
        direct.push(values.filter((v) => !(rem.blacklist as string[]).includes(v)));
      } else {
        direct.push(values);
      }
      if (!ok) break;
    }
    if (!ok) continue;
    for (const local of rule.local) {
      if (local.user && !result.user) {
        const name = local.user.name !== undefined ? substitute(local.user.name, direct) : undefined;
        const id = local.user.id !== undefined ? substitute(local.user.id, direct) : undefined;
        if (name !== undefined || id !== undefined) {
          result.user = {
            name: name ?? id ?? '',
            ...(id !== undefined ? { id } : {}),
            ...(local.user.email ? { email: substitute(local.user.email, direct) ?? '' } : {}),
            type: local.user.type ?? 'ephemeral',
            ...(local.user.domain ? { domain: local.user.domain } : {}),
          };
        }
      }
      if (local.group) {
        if (local.group.id) {
          const gid = substitute(local.group.id, direct);
          if (gid) result.groupIds.push(gid);
        } else if (local.group.name) {
          const gname = substitute(local.group.name, direct);
          if (gname) result.groupNames.push({ name: gname, domain: local.group.domain ?? {} });
        }
      }
      if (local.groups) {
        const names = substitute(local.groups, direct);
        if (names) for (const n of splitList(names)) result.groupNames.push({ name: n, domain: local.domain ?? {} });
      }
      if (local.group_ids) {
        const ids = substitute(local.group_ids, direct);
        if (ids) result.groupIds.push(...splitList(ids));
      }
    }
  }
  return result;
}
