/**
 * Projects and quotas over many clouds: per cloud the user's projects, then per (cloud, project) every service's
 * quota rows, all in parallel under the fan-out's bounds (concurrency, per-target deadline, caller signal). One
 * failing (cloud, project, service) is one failure entry; it never hides the other rows and never hangs the call.
 */

import type { AccessInfo } from '../auth/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { DEFAULT_DEADLINE_MS, fanOut } from '../multicloud/fanout.ts';
import type { MultiCloud } from '../multicloud/multicloud.ts';
import type { Connection, ItemLocation } from '../multicloud/types.ts';
import { isSynnefoCloud } from '../synnefo/client.ts';
import { synnefoProjects, synnefoQuotaRows } from '../synnefo/quotas.ts';
import { canonicalServiceType } from '../wire/service-types.ts';
import { isAbsentService, OPENSTACK_READERS } from './openstack.ts';
import { listMyProjects, projectLocation, selectProjects } from './projects.ts';
import { connectionForProject } from './scoped.ts';
import type { MyProject, ProjectsOutcome, QuotaFailure, QuotaQueryOptions, QuotaRow, QuotasOutcome } from './types.ts';

/** Every service quota rows can come from, in report order. */
export const QUOTA_SERVICES = OPENSTACK_READERS.map(([name]) => name);

function cloudLocation(where: { cloud: string; region: string }) {
  return projectLocation(where, { id: null, name: null, domainId: null, domainName: null });
}

/** My projects on one connection, in its dialect (Keystone, or Astakos on a Synnefo cloud). */
export function projectsOf(conn: Connection, opts: { signal?: AbortSignal | undefined } = {}): Promise<MyProject[]> {
  return isSynnefoCloud(conn.config) ? synnefoProjects(conn, opts) : listMyProjects(conn, opts);
}

/** The projects the user can reach on every connection of `multi`. */
export async function listProjects(multi: MultiCloud, opts: QuotaQueryOptions = {}): Promise<ProjectsOutcome> {
  const out = await multi.call(
    async (conn, _name, ctx) => selectProjects(await projectsOf(conn, ctx), opts.projects),
    opts,
  );
  return {
    projects: out.results.flatMap((r) => r.value),
    failures: out.failures.map((f) => ({ location: cloudLocation(f), service: 'identity', error: f.error })),
  };
}

/** The service types a token's catalog offers, once per token (a catalog never changes within one token). */
const offeredByAccess = new WeakMap<AccessInfo, ReadonlySet<string>>();
function offeredTypes(access: AccessInfo): ReadonlySet<string> {
  let types = offeredByAccess.get(access);
  if (!types) {
    types = new Set(access.catalog.map((e) => canonicalServiceType(e.type)));
    offeredByAccess.set(access, types);
  }
  return types;
}

/** Quota rows of one project on one connection (every service in parallel). */
export async function projectQuotas(
  conn: Connection,
  project: MyProject,
  opts: {
    signal?: AbortSignal | undefined;
    /** Absolute deadline (epoch ms): each service's call gets what is left, so a hanging one fails alone. */
    deadline?: number | undefined;
    services?: readonly string[] | undefined;
  } = {},
): Promise<{ rows: QuotaRow[]; failures: QuotaFailure[] }> {
  const scoped = await connectionForProject(conn, project.id, opts);
  const left = opts.deadline === undefined ? undefined : Math.max(1, opts.deadline - Date.now() - 50);
  const callCtx = { signal: opts.signal, timeoutMs: left };
  // Services the project's catalog does not offer have no quota to report: skip them without a call.
  const access = await scoped.session.getAccess({ signal: opts.signal });
  const offered = offeredTypes(access);
  const readers = OPENSTACK_READERS.filter(
    ([name, type]) => (!opts.services || opts.services.includes(name)) && offered.has(type),
  );
  const settled = await Promise.all(
    readers.map(async ([name, serviceType, read]) => {
      try {
        return { rows: await read(scoped, project.id, project.location, callCtx) };
      } catch (err) {
        const error = OcxError.from(err, { signal: opts.signal, cloud: conn.cloud, region: conn.region });
        if (isAbsentService(error)) return { rows: [] };
        return {
          failure: { location: project.location, service: name, error: error.withContext({ service: serviceType }) },
        };
      }
    }),
  );
  const rows: QuotaRow[] = [];
  const failures: QuotaFailure[] = [];
  for (const s of settled) {
    if (s.rows) for (const r of s.rows) rows.push(r);
    if (s.failure) failures.push(s.failure);
  }
  return { rows, failures };
}

/** The same cloud, region, zone and project (id, name and domain) — what a speculative read was made for. */
function sameLocation(a: ItemLocation, b: ItemLocation): boolean {
  return (
    a.cloud === b.cloud &&
    a.region === b.region &&
    a.zone === b.zone &&
    a.project.id === b.project.id &&
    a.project.name === b.project.name &&
    a.project.domain_id === b.project.domain_id &&
    a.project.domain_name === b.project.domain_name
  );
}

/** Each OpenStack connection's projects as last listed, to start reading them before the next list arrives. */
const knownProjects = new WeakMap<Connection, MyProject[]>();

/**
 * Quotas for every (cloud, project) pair: by default every project the user can reach on every connected cloud.
 * `deadlineMs` bounds each cloud as a whole (listing its projects and reading them); a project not read in time is
 * a TIMEOUT failure of that project only.
 */
export async function listQuotas(multi: MultiCloud, opts: QuotaQueryOptions = {}): Promise<QuotasOutcome> {
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  /** What each cloud listed, to say where a named project was looked for when none matched. */
  const seen: string[] = [];
  const outcome = await multi.call(
    async (conn, _name, ctx) => {
      const speculate = !isSynnefoCloud(conn.config);
      const listed0 = projectsOf(conn, ctx).then((ps) => {
        seen.push(`${conn.cloud}: ${ps.map((p) => p.name ?? p.id).join(', ') || 'none'}`);
        if (speculate) knownProjects.set(conn, ps);
        return ps;
      });
      if (!speculate) {
        const projects = selectProjects(await listed0, opts.projects);
        // Astakos answers for every project at once; a failure is the cloud's (all its projects).
        const rows = await synnefoQuotaRows(conn, projects, { signal: ctx.signal, services: opts.services });
        return { projects, rows, failures: [] as QuotaFailure[] };
      }
      // Leave the cloud's own deadline a moment to report what was read, so finished projects are never lost.
      const remaining = Math.max(1, ctx.deadline - Date.now() - Math.min(250, deadlineMs / 10));
      const readAll = (ps: MyProject[]) =>
        fanOut(
          ps,
          (p, pctx) =>
            projectQuotas(conn, p, { signal: pctx.signal, deadline: pctx.deadline, services: opts.services }),
          {
            concurrency: opts.projectConcurrency ?? 8,
            deadlineMs: remaining,
            signal: ctx.signal,
            where: () => ({ cloud: conn.cloud, region: conn.region }),
          },
        );
      // The projects of this connection's previous answer are read while Keystone lists them again, so the list
      // costs no extra round trip; a speculative read is kept only when the fresh list still has that project
      // with the same name and domain, and projects new to the list are read when it arrives.
      const known = selectProjects(knownProjects.get(conn) ?? [], opts.projects);
      const early = readAll(known);
      let listed: MyProject[];
      try {
        listed = await listed0;
      } catch (err) {
        await early; // its calls are bounded by the same deadline; wait so none outlives this call
        throw err;
      }
      const projects = selectProjects(listed, opts.projects);
      const knownAt = new Map(known.map((k, i) => [k.id, { i, location: k.location }]));
      // Per listed project: the index of its speculative read, or -1 when it has to be read now.
      const earlyIndex = projects.map((p) => {
        const k = knownAt.get(p.id);
        return k && sameLocation(k.location, p.location) ? k.i : -1;
      });
      const late = await readAll(projects.filter((_, j) => (earlyIndex[j] as number) < 0));
      const earlyDone = await early;
      let li = 0;
      const rows: QuotaRow[] = [];
      const failures: QuotaFailure[] = [];
      for (const [j, p] of projects.entries()) {
        const i = earlyIndex[j] as number;
        const s = i >= 0 ? earlyDone[i] : late[li++];
        if (!s) continue;
        if (s.ok) {
          rows.push(...s.value.rows);
          failures.push(...s.value.failures);
        } else failures.push({ location: p.location, service: null, error: s.error });
      }
      return { projects, rows, failures };
    },
    { ...opts, deadlineMs },
  );
  const result: QuotasOutcome = { projects: [], rows: [], failures: [] };
  for (const r of outcome.results) {
    result.projects.push(...r.value.projects);
    result.rows.push(...r.value.rows);
    result.failures.push(...r.value.failures);
  }
  for (const f of outcome.failures)
    result.failures.push({ location: cloudLocation(f), service: 'identity', error: f.error });
  if (opts.projects && opts.projects.length > 0 && result.projects.length === 0 && result.failures.length === 0) {
    throw new OcxError(
      ErrorCode.NOT_FOUND,
      `no project named or with id ${opts.projects.map((p) => `'${p}'`).join(', ')} on the selected clouds ` +
        `(the user's projects: ${seen.sort().join('; ')})`,
    );
  }
  return result;
}
