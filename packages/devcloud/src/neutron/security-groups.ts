/** Neutron security groups and rules, with the per-project `default` group Neutron creates on first use. */
import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../context.ts';
import { badRequest, bodyOf, fieldsOf, NeutronError, policyDenied, rejectUnknown, sendList, tokenOf } from './http.ts';
import { formatIp, parseCidr } from './ipam.ts';
import {
  type NeutronModel,
  newStd,
  renderRow,
  type SecurityGroupRow,
  type SecurityGroupRuleRow,
  touch,
} from './model.ts';

const PROTOCOLS: Record<string, number> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
  gre: 47,
  ah: 51,
  esp: 50,
};

export function renderRule(r: SecurityGroupRuleRow): Record<string, unknown> {
  return renderRow(r);
}

export function renderGroup(m: NeutronModel, g: SecurityGroupRow): Record<string, unknown> {
  const out = renderRow(g);
  out.security_group_rules = m.securityGroupRules.filter((r) => r.security_group_id === g.id).map(renderRule);
  return out;
}

function portNum(v: unknown, attr: string): number | null {
  if (v === undefined || v === null) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw badRequest(`Invalid input for ${attr}. Reason: '${String(v)}' is not a valid port number.`);
  return n;
}

export function securityGroupRoutes(app: FastifyInstance, m: NeutronModel): void {
  const sgNotFound = (id: string) =>
    new NeutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
  const ruleNotFound = (id: string) =>
    new NeutronError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);
  const visibleGroup = (token: TokenInfo, g: SecurityGroupRow) => m.owns(token, g) || g.shared;

  app.get('/v2.0/security-groups', async (req, reply) => {
    const token = tokenOf(req);
    const rows = m.securityGroups.filter((g) => visibleGroup(token, g)).map((g) => renderGroup(m, g));
    return sendList(req, reply, m.ctx, rows, {
      collection: 'security_groups',
      path: '/network/v2.0/security-groups',
      notFound: sgNotFound,
    });
  });

  app.get<{ Params: { id: string } }>('/v2.0/security-groups/:id', async (req) => {
    const token = tokenOf(req);
    return { security_group: fieldsOf(req, renderGroup(m, m.getSecurityGroup(token, req.params.id))) };
  });

  app.post('/v2.0/security-groups', async (req, reply) => {
    const token = tokenOf(req);
    const body = bodyOf(req, 'security_group');
    rejectUnknown(body, ['name', 'description', 'stateful', 'tenant_id', 'project_id', 'shared']);
    const owner =
      (token.isAdmin && ((body.project_id as string | undefined) ?? (body.tenant_id as string | undefined))) ||
      token.projectId ||
      '';
    const name = typeof body.name === 'string' ? body.name : '';
    if (name === 'default') {
      throw new NeutronError(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    }
    m.ensureDefaultSecurityGroup(owner);
    m.checkQuota(owner, 'security_group');
    const g: SecurityGroupRow = {
      ...newStd(owner, body.description),
      name,
      stateful: body.stateful === undefined ? true : Boolean(body.stateful),
      shared: false,
      revision_number: 1,
    };
    m.securityGroups.put(g);
    // Like Neutron: a new group allows all egress.
    for (const ethertype of ['IPv4', 'IPv6'] as const) {
      m.securityGroupRules.put({
        ...newStd(owner),
        security_group_id: g.id,
        direction: 'egress',
        ethertype,
        protocol: null,
        port_range_min: null,
        port_range_max: null,
        remote_ip_prefix: null,
        remote_group_id: null,
        remote_address_group_id: null,
        normalized_cidr: null,
      });
    }
    return reply.code(201).send({ security_group: renderGroup(m, g) });
  });

  app.put<{ Params: { id: string } }>('/v2.0/security-groups/:id', async (req) => {
    const token = tokenOf(req);
    const g = m.getSecurityGroup(token, req.params.id);
    if (!m.owns(token, g)) throw policyDenied('update_security_group');
    const body = bodyOf(req, 'security_group');
    rejectUnknown(body, ['name', 'description', 'stateful']);
    if (typeof body.name === 'string') {
      if (g.name === 'default' && body.name !== 'default')
        throw new NeutronError(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      g.name = body.name;
    }
    if (typeof body.description === 'string') g.description = body.description;
    if (body.stateful !== undefined) g.stateful = Boolean(body.stateful);
    touch(g);
    m.securityGroups.put(g);
    return { security_group: renderGroup(m, g) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/security-groups/:id', async (req, reply) => {
    const token = tokenOf(req);
    const g = m.getSecurityGroup(token, req.params.id);
    if (!m.owns(token, g)) throw policyDenied('delete_security_group');
    if (g.name === 'default' && !token.isAdmin) {
      throw new NeutronError(
        409,
        'SecurityGroupCannotRemoveDefault',
        'Insufficient rights for removing default security group.',
      );
    }
    if (m.ports.filter((p) => p.security_groups.includes(g.id)).length) {
      throw new NeutronError(409, 'SecurityGroupInUse', `Security Group ${g.id} in use.`);
    }
    for (const r of m.securityGroupRules.filter((x) => x.security_group_id === g.id)) m.securityGroupRules.delete(r.id);
    m.securityGroups.delete(g.id);
    return reply.code(204).send();
  });

  // ---- rules ---------------------------------------------------------------------------------------------

  app.get('/v2.0/security-group-rules', async (req, reply) => {
    const token = tokenOf(req);
    const rows = m.securityGroupRules
      .filter((r) => {
        const g = m.securityGroups.get(r.security_group_id);
        return m.owns(token, r) || (!!g && visibleGroup(token, g));
      })
      .map(renderRule);
    return sendList(req, reply, m.ctx, rows, {
      collection: 'security_group_rules',
      path: '/network/v2.0/security-group-rules',
      notFound: ruleNotFound,
    });
  });

  app.get<{ Params: { id: string } }>('/v2.0/security-group-rules/:id', async (req) => {
    const token = tokenOf(req);
    const r = m.securityGroupRules.get(req.params.id);
    if (!r || !m.owns(token, r)) throw ruleNotFound(req.params.id);
    return { security_group_rule: fieldsOf(req, renderRule(r)) };
  });

  app.post('/v2.0/security-group-rules', async (req, reply) => {
    const token = tokenOf(req);
    const body = bodyOf(req, 'security_group_rule');
    rejectUnknown(body, [
      'security_group_id',
      'direction',
      'ethertype',
      'protocol',
      'port_range_min',
      'port_range_max',
      'remote_ip_prefix',
      'remote_group_id',
      'remote_address_group_id',
      'description',
      'tenant_id',
      'project_id',
    ]);
    if (typeof body.security_group_id !== 'string')
      throw badRequest("Failed to parse request. Required attribute 'security_group_id' not specified");
    const g = m.getSecurityGroup(token, body.security_group_id);
    if (!m.owns(token, g)) throw policyDenied('create_security_group_rule');
    const direction = body.direction;
    if (direction !== 'ingress' && direction !== 'egress') {
      throw badRequest(`Invalid input for direction. Reason: ${String(direction)} is not in valid_values.`);
    }
    const ethertype = body.ethertype === undefined ? 'IPv4' : body.ethertype;
    if (ethertype !== 'IPv4' && ethertype !== 'IPv6') {
      throw new NeutronError(
        400,
        'SecurityGroupRuleInvalidEtherType',
        `Security group rule for ethertype '${String(ethertype)}' not supported. Allowed values are ['IPv4', 'IPv6'].`,
      );
    }
    let protocol: string | null = null;
    if (body.protocol !== undefined && body.protocol !== null && body.protocol !== 'any') {
      protocol = String(body.protocol).toLowerCase();
      const asNum = Number(protocol);
      if (!(protocol in PROTOCOLS) && !(Number.isInteger(asNum) && asNum >= 0 && asNum <= 255)) {
        throw new NeutronError(
          400,
          'SecurityGroupRuleInvalidProtocol',
          `Security group rule protocol ${protocol} not supported.`,
        );
      }
    }
    const min = portNum(body.port_range_min, 'port_range_min');
    const max = portNum(body.port_range_max, 'port_range_max');
    if ((min !== null || max !== null) && protocol === null) {
      throw new NeutronError(
        400,
        'SecurityGroupProtocolRequiredWithPorts',
        'Must also specify protocol if port range is given.',
      );
    }
    if ((protocol === 'tcp' || protocol === 'udp') && min !== null && max !== null && min > max) {
      throw new NeutronError(
        400,
        'SecurityGroupInvalidPortRange',
        'For TCP/UDP protocols, port_range_min must be <= port_range_max',
      );
    }
    let prefix: string | null = null;
    let normalized: string | null = null;
    if (typeof body.remote_ip_prefix === 'string') {
      prefix = body.remote_ip_prefix;
      const [ip, len] = prefix.split('/');
      const parsed = parseCidr(prefix.includes('/') ? prefix : `${prefix}/${prefix.includes(':') ? 128 : 32}`);
      if ('error' in parsed) {
        // Host bits set: Neutron keeps the prefix as given and reports the normalized network.
        const bits = ip?.includes(':') ? 128 : 32;
        const loose = parseCidr(`${ip}/${bits}`);
        if ('error' in loose)
          throw badRequest(`Invalid input for remote_ip_prefix. Reason: '${prefix}' is not a valid IP subnet.`);
        const size = 1n << BigInt(bits - Number(len));
        const net = loose.network & ~(size - 1n);
        normalized = `${formatIp(loose.version, net)}/${len}`;
      } else {
        normalized = `${prefix.includes('/') ? prefix : `${prefix}/${parsed.prefix}`}`;
        if ((parsed.version === 4 ? 'IPv4' : 'IPv6') !== ethertype) {
          throw badRequest(`Conflicting value ethertype ${ethertype} for CIDR ${prefix}`);
        }
      }
    }
    const remoteGroup =
      typeof body.remote_group_id === 'string' ? m.getSecurityGroup(token, body.remote_group_id).id : null;
    const rule: SecurityGroupRuleRow = {
      ...newStd(g.project_id, body.description),
      security_group_id: g.id,
      direction,
      ethertype,
      protocol,
      port_range_min: min,
      port_range_max: max,
      remote_ip_prefix: prefix,
      remote_group_id: remoteGroup,
      remote_address_group_id: null,
      normalized_cidr: normalized,
    };
    const same = (a: SecurityGroupRuleRow) =>
      a.security_group_id === rule.security_group_id &&
      a.direction === rule.direction &&
      a.ethertype === rule.ethertype &&
      a.protocol === rule.protocol &&
      a.port_range_min === rule.port_range_min &&
      a.port_range_max === rule.port_range_max &&
      (a.normalized_cidr ?? a.remote_ip_prefix) === (rule.normalized_cidr ?? rule.remote_ip_prefix) &&
      a.remote_group_id === rule.remote_group_id;
    const dup = m.securityGroupRules.filter(same)[0];
    if (dup)
      throw new NeutronError(
        409,
        'SecurityGroupRuleExists',
        `Security group rule already exists. Rule id is ${dup.id}.`,
      );
    m.checkQuota(g.project_id, 'security_group_rule');
    m.securityGroupRules.put(rule);
    touch(g);
    m.securityGroups.put(g);
    return reply.code(201).send({ security_group_rule: renderRule(rule) });
  });

  app.delete<{ Params: { id: string } }>('/v2.0/security-group-rules/:id', async (req, reply) => {
    const token = tokenOf(req);
    const r = m.securityGroupRules.get(req.params.id);
    if (!r || !m.owns(token, r)) throw ruleNotFound(req.params.id);
    m.securityGroupRules.delete(r.id);
    return reply.code(204).send();
  });
}
