/**
 * CloudService's Ansible port, security_group and security_group_rule modules, write side. A port is present by
 * name within its network (security groups and admin state updated); a group by name in the project (description
 * updated); a rule when the group already has one with the same direction, ethertype, protocol, ports and remote.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import type { Connection, SecurityGroup, SecurityGroupRule } from '@ocx/sdk';
import type { SecurityGroupRuleSpec } from '@ocx/sdk/gen/ocx/cloud/v1/ansible_network_pb';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { cloudAt, type GatewayDeps, scopeFor, targetCloud } from '../context.ts';
import { toPort, toRule } from '../convert-ansible.ts';
import { toSecurityGroup } from '../convert-more.ts';
import { invalidArgument } from '../errors.ts';
import { deleteOne, differing, guarded, ownNamed, pickNamed, required } from './present.ts';

function groupOf(conn: Connection, ref: string): Promise<SecurityGroup> {
  return conn.cloudLayer.searchSecurityGroups(ref).then((all) => pickNamed(conn, 'security group', ref, all));
}

interface WantedRule {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  min: number | null;
  max: number | null;
  prefix: string | null;
  remoteGroupId: string | null;
}

function wantedRule(spec: SecurityGroupRuleSpec, remoteGroupId: string | null): WantedRule {
  const direction = spec.direction || 'ingress';
  const ethertype = spec.ethertype || 'IPv4';
  if (direction !== 'ingress' && direction !== 'egress') throw invalidArgument('rule.direction: ingress or egress');
  if (ethertype !== 'IPv4' && ethertype !== 'IPv6') throw invalidArgument('rule.ethertype: IPv4 or IPv6');
  return {
    direction,
    ethertype,
    protocol: spec.protocol ? spec.protocol.toLowerCase() : null,
    min: spec.portRangeMin ?? null,
    max: spec.portRangeMax ?? spec.portRangeMin ?? null,
    prefix: spec.remoteIpPrefix || null,
    remoteGroupId,
  };
}

function sameRule(r: SecurityGroupRule, w: WantedRule): boolean {
  return (
    r.direction === w.direction &&
    r.ethertype === w.ethertype &&
    (r.protocol?.toLowerCase() ?? null) === w.protocol &&
    r.port_range_min === w.min &&
    r.port_range_max === w.max &&
    (r.remote_ip_prefix || null) === w.prefix &&
    (r.remote_group_id ?? null) === w.remoteGroupId
  );
}

/** The group a spec names and the rule it describes, resolved on `conn`. */
async function resolveRule(conn: Connection, spec: SecurityGroupRuleSpec | undefined) {
  const group = await groupOf(conn, required(spec?.securityGroup ?? '', 'rule.security_group'));
  const remote = spec?.remoteGroup ? (await groupOf(conn, spec.remoteGroup)).id : null;
  const want = wantedRule(spec as SecurityGroupRuleSpec, remote);
  return { group, want, match: group.security_group_rules.find((r) => sameRule(r, want)) };
}

export function portGroupHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  return {
    async createPort(req, ctx) {
      const name = required(req.name, 'name');
      required(req.network, 'network');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      return guarded(async () => {
        const net = await pickNamed(conn, 'network', req.network, await cl.searchNetworks(req.network));
        const groups =
          req.securityGroups.length > 0 || req.noSecurityGroups
            ? await Promise.all(req.securityGroups.map(async (g) => (await groupOf(conn, g)).id))
            : undefined;
        const have = await ownNamed(conn, 'port', name, await cl.searchPorts(name, { network_id: net.id }));
        if (!have) {
          const fixedIps = await Promise.all(
            req.fixedIps.map(async (f) => {
              const ref = required(f.subnetId, 'fixed_ips.subnet_id');
              const subnet = await pickNamed(conn, 'subnet', ref, await cl.searchSubnets(ref, { network_id: net.id }));
              return { subnet_id: subnet.id, ip_address: f.ipAddress || undefined };
            }),
          );
          const port = await cl.createPort({
            name,
            network: net,
            fixedIps: fixedIps.length > 0 ? fixedIps : undefined,
            securityGroups: groups,
            adminStateUp: req.adminStateUp,
            signal: ctx.signal,
          });
          return { port: toPort(port), changed: true };
        }
        const changes = differing(
          { security_groups: have.security_groups, admin_state_up: have.is_admin_state_up },
          { security_groups: groups, admin_state_up: req.adminStateUp },
        );
        if (Object.keys(changes).length === 0) return { port: toPort(have), changed: false };
        return { port: toPort(await cl.updatePort(have.id, changes, { signal: ctx.signal })), changed: true };
      });
    },

    deletePort(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'port',
        (conn, key, attrs) => conn.cloudLayer.searchPorts(key, attrs),
        (conn, port) => conn.cloudLayer.deletePort(port.id),
      );
    },

    async createSecurityGroup(req, ctx) {
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      return guarded(async () => {
        const have = await ownNamed(conn, 'security group', name, await cl.searchSecurityGroups(name));
        if (!have) {
          const group = await cl.createSecurityGroup(name, { description: req.description, signal: ctx.signal });
          return { securityGroup: toSecurityGroup(group), changed: true };
        }
        if (req.description === undefined || req.description === have.description)
          return { securityGroup: toSecurityGroup(have), changed: false };
        const updated = await cl.updateSecurityGroup(have.id, { description: req.description }, { signal: ctx.signal });
        return { securityGroup: toSecurityGroup(updated), changed: true };
      });
    },

    deleteSecurityGroup(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'security group',
        (conn, key, attrs) => conn.cloudLayer.searchSecurityGroups(key, attrs),
        (conn, group) => conn.cloudLayer.deleteSecurityGroup(group, { signal: ctx.signal }),
      );
    },

    async createSecurityGroupRule(req, ctx) {
      const conn = await cloudAt(deps, ctx, req.location);
      return guarded(async () => {
        const { group, want, match } = await resolveRule(conn, req.rule);
        if (match) return { rule: toRule(match), changed: false };
        const rule = await conn.cloudLayer.createSecurityGroupRule({
          securityGroup: group,
          direction: want.direction,
          ethertype: want.ethertype,
          protocol: want.protocol ?? undefined,
          portRangeMin: want.min ?? undefined,
          portRangeMax: want.max ?? undefined,
          remoteIpPrefix: want.prefix ?? undefined,
          remoteGroup: want.remoteGroupId ? { id: want.remoteGroupId } : undefined,
          signal: ctx.signal,
        });
        return { rule: toRule(rule), changed: true };
      });
    },

    async deleteSecurityGroupRule(req, ctx) {
      if (req.filter?.nameOrId) {
        return deleteOne(
          deps,
          ctx,
          req.filter,
          'security group rule',
          async (conn, key) =>
            (await conn.cloudLayer.listSecurityGroups()).flatMap((g) =>
              g.security_group_rules.filter((r) => r.id === key),
            ),
          (conn, rule) => conn.cloudLayer.deleteSecurityGroupRule(rule.id, { signal: ctx.signal }),
        );
      }
      if (!req.rule) throw invalidArgument('filter.name_or_id (the rule id) or rule is required');
      const conn = targetCloud(await scopeFor(deps, ctx, req.filter?.location), '');
      return guarded(async () => {
        const { match } = await resolveRule(conn, req.rule);
        if (!match) return { deleted: false };
        return { deleted: await conn.cloudLayer.deleteSecurityGroupRule(match.id, { signal: ctx.signal }) };
      });
    },
  };
}
