/** How Nova shows a server, by microversion and by role. */
import type { FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { InternalError } from '../context.ts';
import { isoMicro, isoSeconds, mv } from './http.ts';
import { HOST, hostId, type ServerRow, statusOf } from './model.ts';

export function serverLinks(ctx: CloudContext, id: string) {
  return [
    { rel: 'self', href: `${ctx.baseUrl}/compute/v2.1/servers/${id}` },
    { rel: 'bookmark', href: `${ctx.baseUrl}/compute/servers/${id}` },
  ];
}

type Address = { version: number; addr: string; 'OS-EXT-IPS:type': string; 'OS-EXT-IPS-MAC:mac_addr': string };

/** `addresses` from the server's Neutron ports (fixed, then floating), keyed by network name. */
export function addressesOf(ctx: CloudContext, serverId: string): Record<string, Address[]> {
  const out: Record<string, Address[]> = {};
  let ports: ReturnType<CloudContext['internal']['network']['portsForDevice']>;
  try {
    ports = ctx.internal.network.portsForDevice(serverId);
  } catch (e) {
    if (e instanceof InternalError) return out;
    throw e;
  }
  for (const p of ports) {
    const list = out[p.networkName] ?? [];
    for (const ip of p.fixedIps) {
      list.push({
        version: ip.version,
        addr: ip.ipAddress,
        'OS-EXT-IPS:type': 'fixed',
        'OS-EXT-IPS-MAC:mac_addr': p.macAddress,
      });
    }
    for (const f of p.floatingIps) {
      list.push({ version: 4, addr: f, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': p.macAddress });
    }
    out[p.networkName] = list;
  }
  return out;
}

export function renderServerSummary(ctx: CloudContext, s: ServerRow) {
  return { id: s.id, name: s.name, links: serverLinks(ctx, s.id) };
}

export function renderServer(
  ctx: CloudContext,
  req: FastifyRequest,
  token: TokenInfo,
  s: ServerRow,
  opts: { show?: boolean } = {},
): Record<string, unknown> {
  const v = mv(req);
  const admin = token.isAdmin;
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: statusOf(s),
    tenant_id: s.project_id,
    user_id: s.user_id,
    metadata: { ...s.metadata },
    hostId: s.vm_state === 'building' && s.pending ? '' : hostId(s.project_id),
    image: s.image_id
      ? { id: s.image_id, links: [{ rel: 'bookmark', href: `${ctx.baseUrl}/compute/images/${s.image_id}` }] }
      : '',
    flavor:
      v >= 47
        ? {
            vcpus: s.flavor.vcpus,
            ram: s.flavor.ram,
            disk: s.flavor.disk,
            ephemeral: s.flavor.ephemeral,
            swap: s.flavor.swap,
            original_name: s.flavor.name,
            extra_specs: { ...s.flavor.extra_specs },
          }
        : { id: s.flavor.id, links: [{ rel: 'bookmark', href: `${ctx.baseUrl}/compute/flavors/${s.flavor.id}` }] },
    created: isoSeconds(s.created),
    updated: isoSeconds(s.updated),
    addresses: s.deleted ? {} : addressesOf(ctx, s.id),
    accessIPv4: s.access_ipv4,
    accessIPv6: s.access_ipv6,
    links: serverLinks(ctx, s.id),
    'OS-DCF:diskConfig': s.disk_config,
    progress: 0,
    'OS-EXT-AZ:availability_zone': s.availability_zone,
    config_drive: s.config_drive,
    key_name: s.key_name,
    'OS-SRV-USG:launched_at': s.launched_at === null ? null : isoMicro(s.launched_at),
    'OS-SRV-USG:terminated_at': s.terminated_at === null ? null : isoMicro(s.terminated_at),
  };
  if (admin) {
    out['OS-EXT-SRV-ATTR:host'] = HOST;
    out['OS-EXT-SRV-ATTR:instance_name'] = `instance-${s.id.slice(0, 8)}`;
    out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = HOST;
    if (v >= 3) {
      out['OS-EXT-SRV-ATTR:reservation_id'] = s.reservation_id;
      out['OS-EXT-SRV-ATTR:launch_index'] = s.launch_index;
      out['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
      out['OS-EXT-SRV-ATTR:kernel_id'] = '';
      out['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
      out['OS-EXT-SRV-ATTR:root_device_name'] = '/dev/vda';
      out['OS-EXT-SRV-ATTR:user_data'] = s.user_data;
    }
  } else if (v >= 90) {
    out['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
  }
  // Nova reads security groups from the server's Neutron ports: no ports, no `security_groups` key.
  if (!s.deleted && Object.keys(out.addresses as object).length > 0) {
    out.security_groups = s.security_groups.map((name) => ({ name }));
  }
  out['OS-EXT-STS:task_state'] = s.task_state;
  out['OS-EXT-STS:vm_state'] = s.vm_state;
  out['OS-EXT-STS:power_state'] = s.power_state;
  out['os-extended-volumes:volumes_attached'] = s.volumes.map((vol) =>
    v >= 3 ? { id: vol.id, delete_on_termination: vol.delete_on_termination } : { id: vol.id },
  );
  if (s.fault && (s.vm_state === 'error' || s.deleted)) {
    const fault: Record<string, unknown> = {
      code: s.fault.code,
      created: isoSeconds(s.fault.created),
      message: s.fault.message,
    };
    if (admin || s.fault.code !== 500) fault.details = s.fault.details;
    out.fault = fault;
  }
  if (v >= 9) out.locked = s.locked;
  if (v >= 16 && admin) out.host_status = 'UP';
  if (v >= 19) out.description = s.description;
  if (v >= 26) out.tags = [...s.tags];
  if (v >= 63) out.trusted_image_certificates = null;
  if (v >= 73) out.locked_reason = s.locked_reason;
  if (v >= 71 && opts.show) out.server_groups = [];
  return out;
}
