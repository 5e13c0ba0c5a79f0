/**
 * Creating, updating and deleting security groups and their rules (openstacksdk `cloud/_security_group.py`
 * `create_security_group`, `update_security_group`, `delete_security_group`, `create_security_group_rule`,
 * `delete_security_group_rule`), answered as normalized resources.
 */
import type { NeutronSecurityGroupRule } from '../services/network.ts';
import { type CloudCore, falseOn404, type Ref, resolveId } from './core.ts';
import { getSecurityGroup } from './networks.ts';
import { normalizeSecurityGroup, normalizeSecurityGroupRule } from './normalize/network.ts';
import type { SecurityGroup, SecurityGroupRule } from './types.ts';

type Signal = { signal?: AbortSignal | undefined };

export async function createSecurityGroup(
  core: CloudCore,
  name: string,
  o: Signal & { description?: string | undefined } = {},
): Promise<SecurityGroup> {
  const body: { name: string; description?: string } = { name };
  if (o.description !== undefined) body.description = o.description;
  return normalizeSecurityGroup(await core.network.createSecurityGroup(body, { signal: o.signal }), await core.base());
}

export async function updateSecurityGroup(
  core: CloudCore,
  id: string,
  changes: { name?: string; description?: string },
  o: Signal = {},
): Promise<SecurityGroup> {
  return normalizeSecurityGroup(
    await core.network.updateSecurityGroup(id, changes, { signal: o.signal }),
    await core.base(),
  );
}

/** False when it does not exist. */
export async function deleteSecurityGroup(core: CloudCore, ref: Ref, o: Signal = {}): Promise<boolean> {
  const group = await getSecurityGroup(core, ref);
  if (!group) return false;
  return falseOn404(() => core.network.deleteSecurityGroup(group.id, { signal: o.signal }));
}

export interface CreateRuleOptions extends Signal {
  /** The group (name, id or object). */
  securityGroup: Ref;
  direction?: 'ingress' | 'egress' | undefined;
  ethertype?: 'IPv4' | 'IPv6' | undefined;
  protocol?: string | undefined;
  portRangeMin?: number | undefined;
  portRangeMax?: number | undefined;
  remoteIpPrefix?: string | undefined;
  /** Another group (name, id or object). */
  remoteGroup?: Ref | undefined;
}

export async function createSecurityGroupRule(core: CloudCore, o: CreateRuleOptions): Promise<SecurityGroupRule> {
  const groupId = await resolveId(o.securityGroup, 'security group', (n) => getSecurityGroup(core, n));
  const rule: Parameters<CloudCore['network']['createSecurityGroupRule']>[0] = {
    security_group_id: groupId,
    direction: o.direction ?? 'ingress',
    ethertype: o.ethertype ?? 'IPv4',
  };
  if (o.protocol) rule.protocol = o.protocol;
  if (o.portRangeMin !== undefined) rule.port_range_min = o.portRangeMin;
  if (o.portRangeMax !== undefined) rule.port_range_max = o.portRangeMax;
  if (o.remoteIpPrefix) rule.remote_ip_prefix = o.remoteIpPrefix;
  if (o.remoteGroup !== undefined)
    rule.remote_group_id = await resolveId(o.remoteGroup, 'security group', (n) => getSecurityGroup(core, n));
  const created: NeutronSecurityGroupRule = await core.network.createSecurityGroupRule(rule, { signal: o.signal });
  return normalizeSecurityGroupRule(created, await core.base());
}

/** False when it does not exist. */
export function deleteSecurityGroupRule(core: CloudCore, id: string, o: Signal = {}): Promise<boolean> {
  return falseOn404(() => core.network.deleteSecurityGroupRule(id, { signal: o.signal }));
}
