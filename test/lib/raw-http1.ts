/**
 * One HTTP/1.1 exchange written byte for byte to a fresh loopback socket, for the bad-input tests of the proxy and
 * the gateway (framing no client library would send). Reads until the server closes; cases without
 * `connection: close` may be kept alive, so 1 s of quiet after an answer began ends the read. The client never
 * half-closes (node:http would take that as an abort).
 */
import { connect } from 'node:net';

/** How long a complete request may wait for its answer. */
export const CASE_DEADLINE_MS = 15_000;
/** How long a knowingly incomplete request is given before "closed without an answer" counts as fine. */
export const INCOMPLETE_WAIT_MS = 7_000;

export interface RawAnswer {
  raw: string;
  status: number;
  headers: Record<string, string>;
  /** The first answer's body only (a smuggling case may get a second answer on the same connection). */
  body: string;
  ms: number;
}

/** Null when the server closed without answering (allowed only when `mayGoUnanswered`, else that too is null). */
export function sendRawHttp1(port: number, bytes: Buffer, mayGoUnanswered: boolean): Promise<RawAnswer | null> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => {
        s.destroy();
        if (mayGoUnanswered && chunks.length === 0) resolve(null);
        else reject(new Error(`no complete answer within ${CASE_DEADLINE_MS} ms`));
      },
      mayGoUnanswered ? INCOMPLETE_WAIT_MS : CASE_DEADLINE_MS,
    );
    let quiet: NodeJS.Timeout | undefined;
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(quiet);
      quiet = setTimeout(() => s.destroy(), 1_000);
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      clearTimeout(quiet);
      const raw = Buffer.concat(chunks).toString('latin1');
      if (raw === '') return resolve(null);
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      let body = rest.join('\r\n\r\n');
      if (headers['content-length']) body = body.slice(0, Number(headers['content-length']));
      resolve({ raw, status, headers, body, ms: Date.now() - t0 });
    });
    s.write(bytes);
  });
}
