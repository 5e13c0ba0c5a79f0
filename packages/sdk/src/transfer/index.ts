export { type DownloadOptions, type DownloadResult, downloadFile } from './download.ts';
export { infoUrl, type SwiftLimits, swiftLimits } from './info.ts';
export { rechunk } from './rechunk.ts';
export type { ProgressListener, TransferOptions, TransferProgress } from './types.ts';
export {
  chooseSegmentSize,
  DEFAULT_SEGMENT_SIZE,
  DEFAULT_THREADS,
  type UploadOptions,
  type UploadResult,
  uploadFile,
} from './upload.ts';
export { youngGcEvery } from './young-gc.ts';
