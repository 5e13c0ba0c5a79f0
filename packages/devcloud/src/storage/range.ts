/** HTTP byte ranges, as Glance and Swift serve them from stored blobs. */

/**
 * Parse one HTTP `Range: bytes=...` header against a size. Returns the ranges, `undefined` when there is no usable
 * Range header (serve the whole body), or 'unsatisfiable'.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number }[] | undefined | 'unsatisfiable' {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return undefined;
  const out: { start: number; end: number }[] = [];
  for (const part of m[1]!.split(',')) {
    const p = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(part);
    if (!p) return undefined;
    const [, a, b] = p;
    if (a === '' && b === '') return undefined;
    if (a === '') {
      const n = Number(b);
      if (n === 0) continue;
      out.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const start = Number(a);
      const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
      if (b !== '' && Number(b) < start) return undefined;
      if (start >= size) continue;
      out.push({ start, end });
    }
  }
  if (out.length === 0) return 'unsatisfiable';
  return out;
}
