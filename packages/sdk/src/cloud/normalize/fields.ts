/** Small coercions shared by the normalizers: raw API values → the model's strings, numbers, booleans. */

/** The keys of `raw` that are not model fields (and not `links`): a resource's `properties`. */
export function rest(raw: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const skip = new Set(known);
  for (const [k, v] of Object.entries(raw)) if (!skip.has(k) && k !== 'links') out[k] = v;
  return out;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : v === null || v === undefined ? null : String(v);
}

export function numOr(v: unknown, dflt: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : dflt;
}

export function numOrNull(v: unknown): number | null {
  const n = numOr(v, Number.NaN);
  return Number.isNaN(n) ? null : n;
}

export function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === 'True' || v === '1' || v === 1;
}
