/**
 * What the benches on the real stack (test/real) share beside test/lib/real-login.ts: one image moved up to a
 * Glance and back with plain HTTP (the "direct" reference).
 */
import { type Agent, request } from 'undici';
import { repeatedBody } from '../proxy-stream.ts';

/**
 * One image created, `bytes` uploaded (Content-Length, one 256 KiB buffer sent again and again) and downloaded,
 * deleted, at Glance v2 under `images` (ms each way).
 */
export async function moveImage(
  agent: Agent,
  images: string,
  headers: Record<string, string>,
  bytes: number,
): Promise<{ up: number; down: number }> {
  const created = await request(images, {
    dispatcher: agent,
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `ocx-bench-stream-${Date.now()}`, disk_format: 'raw', container_format: 'bare' }),
    headersTimeout: 60_000,
  });
  const image = (await created.body.json()) as { id?: string };
  if (created.statusCode !== 201 || !image.id) throw new Error(`image create at ${images}: ${created.statusCode}`);
  const file = `${images}/${image.id}/file`;
  try {
    let t0 = performance.now();
    const up = await request(file, {
      dispatcher: agent,
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
      body: repeatedBody(bytes, 7),
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
    });
    await up.body.dump();
    if (up.statusCode !== 204) throw new Error(`upload to ${file}: ${up.statusCode}`);
    const upMs = performance.now() - t0;
    t0 = performance.now();
    const down = await request(file, { dispatcher: agent, headers, headersTimeout: 60_000, bodyTimeout: 600_000 });
    let got = 0;
    for await (const c of down.body) got += (c as Buffer).length;
    if (down.statusCode !== 200 || got !== bytes)
      throw new Error(`download of ${file}: ${down.statusCode}, ${got} bytes`);
    return { up: upMs, down: performance.now() - t0 };
  } finally {
    await (await request(`${images}/${image.id}`, { dispatcher: agent, method: 'DELETE', headers })).body.dump();
  }
}
