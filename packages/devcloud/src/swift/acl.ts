/**
 * Who may do what in Swift: the account owner (its project's tokens, or admin), container ACLs
 * (`X-Container-Read` with `.r:*` and `.rlistings`, `<project>:<user>` elements in read and write), and objects a
 * valid temp URL signature opened (`req.swiftTempUrl`, set by tempurl.ts: its account, or with a container key
 * its container).
 */
import type { FastifyRequest } from 'fastify';
import type { TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import type { ContainerRow, ObjectRow } from './model.ts';
import type { SwiftStore } from './store.ts';

/** Parse an ACL string into its elements. */
function aclElements(acl: string | null): string[] {
  return (acl ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function aclGrants(acl: string | null, tok: TokenInfo | undefined): boolean {
  for (const el of aclElements(acl)) {
    if (el.startsWith('.')) continue;
    if (!tok) continue;
    const [p, u] = el.split(':');
    if (u === undefined) {
      if (p === tok.projectId || p === '*') return true;
      continue;
    }
    if (
      (p === '*' || p === tok.projectId || p === tok.projectName) &&
      (u === '*' || u === tok.userId || u === tok.userName)
    )
      return true;
  }
  return false;
}

export function owner(req: FastifyRequest, account: string): boolean {
  const t = req.swiftToken;
  if (!t) return false;
  return t.isAdmin || (t.projectId !== undefined && account === `AUTH_${t.projectId}`);
}

function deny(req: FastifyRequest, account: string): never {
  if (account === '') throw new ApiFault(412, 'Invalid path');
  throw new ApiFault(req.swiftToken ? 403 : 401);
}

export function checkAccount(req: FastifyRequest, account: string): void {
  if (!account.startsWith('AUTH_')) deny(req, account);
  if (!owner(req, account)) deny(req, account);
}

/** Object reads/writes and container listings, through the owner or the container's ACLs. */
export function checkContainer(
  req: FastifyRequest,
  account: string,
  c: ContainerRow | undefined,
  op: 'read' | 'write' | 'list',
): void {
  if (!account.startsWith('AUTH_')) deny(req, account);
  if (owner(req, account)) return;
  const grant = req.swiftTempUrl;
  if (op !== 'list' && grant?.account === account && (grant.container === undefined || grant.container === c?.name))
    return;
  if (!c) deny(req, account);
  const t = req.swiftToken;
  if (op === 'write') {
    if (aclGrants(c.write, t)) return;
  } else {
    const els = aclElements(c.read);
    const referrerOk = els.some((e) => e === '.r:*');
    if (op === 'read' && referrerOk) return;
    if (op === 'list' && referrerOk && els.includes('.rlistings')) return;
    if (aclGrants(c.read, t)) return;
  }
  deny(req, account);
}

/** The object a request reads or writes, once its container lets the request in; 404 when there is none. */
export function authorizedObject(
  s: SwiftStore,
  req: FastifyRequest,
  account: string,
  container: string,
  name: string,
  op: 'read' | 'write',
): ObjectRow {
  const c = s.getContainer(account, container);
  checkContainer(req, account, c, op);
  const o = c ? s.getObject(account, container, name) : undefined;
  if (!o) throw new ApiFault(404);
  return o;
}
