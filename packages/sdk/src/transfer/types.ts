import type { CallOptions } from '../services/common.ts';

/** A snapshot of a transfer, given to `onProgress` after every chunk. */
export interface TransferProgress {
  /** Bytes of the object accounted for so far: sent or received, plus segments found already stored (skipped). */
  bytesDone: number;
  bytesTotal: number;
  /** Bytes that went over the wire in this call (request bodies for uploads, response bodies for downloads). */
  bytesTransferred: number;
  /** Bytes not sent because a matching segment was already stored (resumed or unchanged uploads). */
  bytesSkipped: number;
  partsDone: number;
  partsTotal: number;
}

export type ProgressListener = (progress: TransferProgress) => void;

export interface TransferOptions extends CallOptions {
  /** How many segments or ranges move at once (default 4). */
  threads?: number | undefined;
  /** Called after every chunk and every finished part. Keep it cheap. */
  onProgress?: ProgressListener | undefined;
}
