/**
 * One read of a local file feeding several uploads (`image create --file F --os-cloud A --os-cloud B`): each upload
 * `join()`s and gets its own stream; reading starts once all `expected` have joined and goes at the pace of the
 * slowest (a branch that is full pauses the file until it drains). A branch its upload no longer wants (the image
 * already existed, or the upload failed) is destroyed and simply dropped. The bytes read are hashed: if they differ
 * from `sha256` (the file changed since it was hashed), every branch fails instead of ending, so no upload completes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { ErrorCode, OcxError } from '@ocx/sdk';

export class FileTee {
  readonly #path: string;
  readonly #expected: number;
  readonly #sha256: string;
  readonly #live = new Set<PassThrough>();
  #joined = 0;
  #started = false;

  constructor(path: string, expected: number, sha256: string) {
    this.#path = path;
    this.#expected = expected;
    this.#sha256 = sha256;
  }

  /** A stream of the file's bytes for one upload. */
  join(): PassThrough {
    const branch = new PassThrough({ highWaterMark: 1024 * 1024 });
    this.#live.add(branch);
    branch.once('close', () => {
      this.#live.delete(branch);
    });
    this.#joined++;
    if (this.#joined >= this.#expected) this.#start();
    return branch;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    const source = createReadStream(this.#path);
    const hash = createHash('sha256');
    source.on('data', (chunk) => {
      const buf = chunk as Buffer;
      hash.update(buf);
      if (this.#live.size === 0) {
        // Every upload is done with it (images already there, or failed): stop reading.
        source.destroy();
        return;
      }
      const full = [...this.#live].filter((b) => !b.write(buf));
      if (full.length === 0) return;
      source.pause();
      let waiting = full.length;
      const resume = () => {
        if (--waiting === 0) source.resume();
      };
      for (const b of full) {
        const once = () => {
          b.off('drain', once);
          b.off('close', once);
          resume();
        };
        b.on('drain', once);
        b.on('close', once);
      }
    });
    source.on('end', () => {
      const got = hash.digest('hex');
      for (const b of this.#live) {
        if (got === this.#sha256) b.end();
        else
          b.destroy(
            new OcxError(
              ErrorCode.BAD_REQUEST,
              `${this.#path} changed while it was uploaded (sha256 ${got}, expected ${this.#sha256})`,
            ),
          );
      }
    });
    source.on('error', (err) => {
      for (const b of this.#live) b.destroy(err);
    });
  }
}
