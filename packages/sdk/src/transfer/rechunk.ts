/**
 * A byte stream as messages of `size` bytes (the last one shorter). HTTP clients and file streams hand over what
 * one read got — often 16–64 KiB — and every gRPC message costs a protobuf encode, an envelope and a write on both
 * ends, so sending fewer, fuller messages (one copy to join them) moves more bytes per CPU second. The gateway's
 * downloads and the SDK's uploads through a gateway use it.
 */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let held = 0;
  for await (const buf of source) {
    let off = 0;
    while (off < buf.byteLength) {
      const take = Math.min(size - held, buf.byteLength - off);
      if (held === 0 && take === size) {
        yield buf.subarray(off, off + take); // already a whole message: no copy
      } else {
        parts.push(buf.subarray(off, off + take));
        held += take;
        if (held === size) {
          yield Buffer.concat(parts, size);
          parts = [];
          held = 0;
        }
      }
      off += take;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}
