import { z } from 'zod';
import { describe } from './files.ts';

/**
 * Shape checks for what users write in clouds.yaml / secure.yaml / clouds-public.yaml. Deliberately loose: every
 * key openstacksdk accepts stays accepted (unknown keys are kept, not rejected); only keys OCX interprets get a type.
 * Messages say what was expected, in clouds.yaml terms.
 */

const got = (issue: { input?: unknown }) => `got ${describe(issue.input)}`;

/** Scalars users write for ids/names: YAML may turn `project_id: 610275` into a number. */
const stringish = z.union([z.string(), z.number()], { error: (i) => `expected a string, ${got(i)}` });

const boolish = z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False', 'yes', 'no', '1', '0'])], {
  error: (i) => `expected true or false, ${got(i)}`,
});

const url = z.string({ error: (i) => `expected a URL string, ${got(i)}` }).refine(
  (v) => {
    if (v.includes('{')) return true; // profile templates such as https://{region_name}.example.com
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: (i) => `expected an http(s) URL, got ${JSON.stringify(i.input)}` },
);

export const INTERFACES = ['public', 'internal', 'admin', 'publicURL', 'internalURL', 'adminURL'] as const;
const iface = z.enum(INTERFACES, {
  error: (i) => `expected one of public, internal, admin, ${got(i)}`,
});

/** Auth settings OCX reads as strings: a list or a mapping there is a mistake, not a value to pass on. */
const AUTH_STRING_KEYS = [
  'username',
  'user_id',
  'password',
  'token',
  'project_name',
  'project_id',
  'tenant_name',
  'tenant_id',
  'user_domain_name',
  'user_domain_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'default_domain_name',
  'default_domain_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
] as const;

const authSchema = z
  .object(
    {
      auth_url: url.optional(),
      ...Object.fromEntries(AUTH_STRING_KEYS.map((k) => [k, stringish.nullable().optional()])),
    },
    { error: (i) => `expected a mapping of auth settings, ${got(i)}` },
  )
  .catchall(z.unknown())
  .nullable()
  .optional();

const regionValues = z.record(z.string(), z.unknown(), {
  error: (i) => `expected a mapping of settings, ${got(i)}`,
});

const regionEntry = z.union(
  [
    z.string(),
    z.strictObject(
      {
        name: z.string({ error: (i) => `expected the region name as a string, ${got(i)}` }),
        values: regionValues.optional(),
      },
      {
        error: (i) =>
          i.code === 'unrecognized_keys'
            ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')} in a region entry; expected a region name or a mapping {name, values}`
            : `expected a region name or a mapping {name, values}, ${got(i)}`,
      },
    ),
  ],
  { error: (i) => `expected a region name or a mapping {name, values}, ${got(i)}` },
);

const federationSchema = z.strictObject(
  {
    home_cloud: z.string({ error: (i) => `expected the name of the home cloud, ${got(i)}` }),
    service_provider: z.string({ error: (i) => `expected the service provider id, ${got(i)}` }),
    remote_project_name: stringish.optional(),
    remote_project_id: stringish.optional(),
    remote_project_domain_name: stringish.optional(),
    remote_project_domain_id: stringish.optional(),
  },
  {
    error: (i) =>
      i.code === 'unrecognized_keys'
        ? `unknown federation setting (expected home_cloud, service_provider, remote_project_name, remote_project_id, remote_project_domain_name, remote_project_domain_id)`
        : `expected a mapping with home_cloud and service_provider, ${got(i)}`,
  },
);

/** `gateway:` (OCX extension): reach this cloud through an OCX gRPC gateway instead of its REST APIs. */
const gatewaySchema = z
  .strictObject(
    {
      url: url,
      cloud: z.string({ error: (i) => `expected the name of a cloud the gateway serves, ${got(i)}` }).optional(),
      region: z.string({ error: (i) => `expected a region name, ${got(i)}` }).optional(),
      verify: boolish.optional(),
      insecure: boolish.optional(),
      cacert: z.string({ error: (i) => `expected a path to a CA bundle, ${got(i)}` }).optional(),
      cert: z.string({ error: (i) => `expected a path to a client certificate, ${got(i)}` }).optional(),
      key: z.string({ error: (i) => `expected a path to a client key, ${got(i)}` }).optional(),
    },
    {
      error: (i) =>
        i.code === 'unrecognized_keys'
          ? `unknown gateway setting${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')} (expected url, cloud, region, verify, insecure, cacert, cert, key)`
          : `expected a mapping with the gateway's url, ${got(i)}`,
    },
  )
  .superRefine((g, ctx) => {
    if (g.cert && !g.key) ctx.addIssue({ code: 'custom', path: ['key'], message: 'a client cert needs its key' });
    if (g.key && !g.cert) ctx.addIssue({ code: 'custom', path: ['cert'], message: 'a client key needs its cert' });
  });

const timeout = z.union(
  [
    z.number().nonnegative(),
    z.string().regex(/^\d+(\.\d+)?$/, { error: (i) => `expected a number of seconds, ${got(i)}` }),
  ],
  {
    error: (i) => `expected a number of seconds, ${got(i)}`,
  },
);

/** Per-service keys OCX interprets, matched by suffix (any service prefix). */
export const SERVICE_KEY_SUFFIXES = {
  _api_version: 'apiVersion',
  _endpoint_override: 'endpointOverride',
  _service_type: 'serviceType',
  _service_name: 'serviceName',
  _interface: 'interface',
  _endpoint_type: 'interface',
  _default_microversion: 'defaultMicroversion',
} as const;

/** One cloud entry as written in a file (before profile/region/secure merging). */
export const cloudEntrySchema = z
  .object(
    {
      auth: authSchema,
      auth_type: z.string({ error: (i) => `expected an auth type name such as password, ${got(i)}` }).optional(),
      auth_plugin: z.string().optional(),
      profile: z.string({ error: (i) => `expected a profile name, ${got(i)}` }).optional(),
      cloud: z.string().optional(),
      region_name: z
        .union([z.string(), z.array(z.string())], { error: (i) => `expected a region name, ${got(i)}` })
        .optional(),
      regions: z.array(regionEntry, { error: (i) => `expected a list of regions, ${got(i)}` }).optional(),
      interface: iface.optional(),
      endpoint_type: iface.optional(),
      identity_api_version: stringish.optional(),
      verify: boolish.optional(),
      insecure: boolish.optional(),
      cacert: z.string({ error: (i) => `expected a path to a CA bundle, ${got(i)}` }).optional(),
      cert: z.string({ error: (i) => `expected a path to a client certificate, ${got(i)}` }).optional(),
      key: z.string({ error: (i) => `expected a path to a client key, ${got(i)}` }).optional(),
      api_timeout: timeout.optional(),
      federation: federationSchema.optional(),
      gateway: gatewaySchema.optional(),
      networks: z
        .array(z.record(z.string(), z.unknown()), { error: (i) => `expected a list of networks, ${got(i)}` })
        .optional(),
    },
    { error: (i) => `expected a mapping of cloud settings, ${got(i)}` },
  )
  .catchall(z.unknown())
  .superRefine((entry, ctx) => {
    for (const [key, value] of Object.entries(entry)) {
      if (value === undefined || value === null) continue;
      if (key.endsWith('_endpoint_override')) {
        const r = url.safeParse(value);
        if (!r.success) ctx.addIssue({ code: 'custom', path: [key], message: r.error.issues[0]?.message ?? 'bad URL' });
      } else if (key.endsWith('_api_version') || key.endsWith('_default_microversion')) {
        if (typeof value !== 'string' && typeof value !== 'number')
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `expected a version such as '2' or '2.1', ${got({ input: value })}`,
          });
      } else if (key.endsWith('_interface') || key.endsWith('_endpoint_type')) {
        if (!(INTERFACES as readonly unknown[]).includes(value))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `expected one of public, internal, admin, ${got({ input: value })}`,
          });
      } else if (key.endsWith('_service_type') || key.endsWith('_service_name')) {
        if (typeof value !== 'string')
          ctx.addIssue({ code: 'custom', path: [key], message: `expected a string, ${got({ input: value })}` });
      }
    }
  });

export type CloudEntry = z.infer<typeof cloudEntrySchema>;

/** The top level of clouds.yaml / secure.yaml. */
export const cloudsFileSchema = z
  .object({
    clouds: z
      .record(z.string(), z.unknown(), { error: (i) => `expected a mapping of cloud names to settings, ${got(i)}` })
      .optional()
      .nullable(),
  })
  .catchall(z.unknown());

/** The top level of clouds-public.yaml. */
export const publicCloudsFileSchema = z
  .object({
    'public-clouds': z
      .record(z.string(), z.unknown(), { error: (i) => `expected a mapping of profile names to settings, ${got(i)}` })
      .optional()
      .nullable(),
  })
  .catchall(z.unknown());

/** zod issue path → the key as a user would write it: `regions[1].name`, `auth.auth_url`. */
export function keyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
