/** JSON schemas served at /v2/schemas/*: the image attributes Glance v2 documents, written for devcloud. */
import { CONTAINER_FORMATS, DISK_FORMATS, STATUSES, VISIBILITIES } from './images.ts';

const nullableString = (description: string, maxLength = 255) => ({ type: ['null', 'string'], description, maxLength });

export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    properties: {
      id: {
        type: 'string',
        description: 'An identifier for the image',
        pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
      },
      name: nullableString('Descriptive name for the image'),
      status: { type: 'string', readOnly: true, description: 'Status of the image', enum: STATUSES },
      visibility: { type: 'string', description: 'Scope of image accessibility', enum: VISIBILITIES },
      protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
      os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
      checksum: { ...nullableString('md5 hash of image contents.', 32), readOnly: true },
      os_hash_algo: { ...nullableString('Algorithm used to compute the os_hash_value', 64), readOnly: true },
      os_hash_value: { ...nullableString('Hexdigest of the image contents', 128), readOnly: true },
      owner: nullableString('Owner of the image'),
      size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
      virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
      container_format: {
        type: ['null', 'string'],
        description: 'Format of the container',
        enum: [null, ...CONTAINER_FORMATS],
      },
      disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...DISK_FORMATS] },
      created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
      updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
      tags: {
        type: 'array',
        description: 'List of strings related to the image',
        items: { type: 'string', maxLength: 255 },
      },
      direct_url: {
        type: 'string',
        readOnly: true,
        description: 'URL to access the image file kept in external store',
      },
      min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
      min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
      self: { type: 'string', readOnly: true, description: 'An image self url' },
      file: { type: 'string', readOnly: true, description: 'An image file url' },
      stores: { type: 'string', readOnly: true, description: 'Store in which image data resides.' },
      schema: { type: 'string', readOnly: true, description: 'An image schema url' },
      locations: { type: 'array', description: 'A set of URLs to access the image file kept in external store' },
    },
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      schema: { type: 'string' },
      first: { type: 'string' },
      next: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function memberSchema(): Record<string, unknown> {
  return {
    name: 'member',
    properties: {
      created_at: { type: 'string', description: 'Date and time of image member creation' },
      image_id: { type: 'string', description: 'An identifier for the image' },
      member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
      status: {
        type: 'string',
        description: 'The status of this image member',
        enum: ['pending', 'accepted', 'rejected'],
      },
      updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
      schema: { type: 'string', readOnly: true },
    },
  };
}

export function membersSchema(): Record<string, unknown> {
  return {
    name: 'members',
    properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}
