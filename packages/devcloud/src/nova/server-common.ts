/** What every server route file shares: the visibility-checked lookup, image refs, device names. */
import type { TokenInfo } from '../context.ts';
import { conflict, notFound } from './http.ts';
import type { NovaModel, ServerRow } from './model.ts';

/** Get a server the token may see (own project; admin: any), settled; 404 like Nova otherwise. */
export function getServer(m: NovaModel, token: TokenInfo, id: string, forAction = false): ServerRow {
  // Nova words a missing server differently on the action path (it looks up the cell mapping first).
  const missing = () =>
    notFound(forAction ? `Instance ${id} has no mapping to a cell.` : `Instance ${id} could not be found.`);
  const s = m.servers.get(id);
  if (!s || s.deleted || !(token.isAdmin || s.project_id === token.projectId)) throw missing();
  m.settle(s);
  if (s.deleted) throw missing();
  return s;
}

export function imageIdFromRef(ref: unknown): string {
  const s = String(ref ?? '');
  return s.includes('/') ? (s.split('/').filter(Boolean).pop() ?? '') : s;
}

export function deviceName(index: number): string {
  return `/dev/vd${String.fromCharCode('a'.charCodeAt(0) + index)}`;
}

/** The next free /dev/vdX of a server. */
export function nextDevice(s: ServerRow): string {
  const used = new Set(s.volumes.map((v) => v.device));
  for (let i = s.image_id ? 1 : 0; i < 26; i++) if (!used.has(deviceName(i))) return deviceName(i);
  throw conflict('No free disk device names for prefix vd');
}
