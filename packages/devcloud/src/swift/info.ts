/** Swift's `/info` (capabilities): the cluster's limits and the middlewares devcloud implements. */
import { LIMITS } from './model.ts';
import { type TempUrlConfig, tempUrlInfo } from './tempurl.ts';

export function infoDoc(tempurl: TempUrlConfig) {
  return {
    swift: {
      version: '2.30.0',
      max_file_size: LIMITS.maxFileSize,
      max_meta_name_length: LIMITS.maxMetaNameLength,
      max_meta_value_length: LIMITS.maxMetaValueLength,
      max_meta_count: LIMITS.maxMetaCount,
      max_meta_overall_size: LIMITS.maxMetaOverallSize,
      max_header_size: 8192,
      account_listing_limit: LIMITS.listingLimit,
      container_listing_limit: LIMITS.listingLimit,
      max_object_name_length: LIMITS.maxObjectNameLength,
      max_container_name_length: LIMITS.maxContainerNameLength,
      max_account_name_length: 256,
      extra_header_count: 0,
      valid_api_versions: ['v1', 'v1.0'],
      policies: [{ name: 'Policy-0', aliases: 'Policy-0', default: true }],
      strict_cors_mode: true,
      allow_account_management: false,
      account_autocreate: true,
    },
    slo: {
      max_manifest_segments: LIMITS.maxManifestSegments,
      max_manifest_size: LIMITS.maxManifestSize,
      yield_frequency: 10,
      min_segment_size: 1,
      allow_async_delete: false,
    },
    tempurl: tempUrlInfo(tempurl),
    account_quotas: {},
    container_quotas: {},
    bulk_delete: { max_deletes_per_request: 10000, max_failed_deletes: 1000 },
  };
}
