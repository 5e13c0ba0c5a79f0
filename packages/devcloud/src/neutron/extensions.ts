/** `GET /v2.0/extensions`: the API extensions devcloud's Neutron implements (clients probe these). */
import type { FastifyInstance } from 'fastify';
import { NeutronError, tokenOf } from './http.ts';

const EXTENSIONS: [alias: string, name: string, description: string][] = [
  ['agent', 'agent', 'The agent management extension.'],
  ['allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs'],
  ['binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'],
  ['external-net', 'Neutron external network', 'Adds external network attribute to network resource.'],
  ['extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra options configuration for DHCP.'],
  ['extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router'],
  ['filter-validation', 'Filter parameters validation', 'Provides validation on filter parameters.'],
  ['fip-port-details', 'Floating IP Port Details Extension', 'Add port_details attribute to Floating IP resource'],
  ['net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'],
  ['network_availability_zone', 'Network Availability Zone', 'Availability zone support for network.'],
  ['pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.'],
  ['port-security', 'Port Security', 'Provides port security'],
  ['project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.'],
  ['provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks'],
  ['quotas', 'Quota management support', 'Expose functions for quotas management per project'],
  ['quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project'],
  [
    'router',
    'Neutron L3 Router',
    'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
  ],
  ['security-group', 'security-group', 'The security groups extension.'],
  ['sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.'],
  ['standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes'],
  [
    'standard-attr-revisions',
    'Resource revision numbers',
    'This extension will display the revision number of neutron resources.',
  ],
  [
    'standard-attr-tag',
    'Tag support for resources with standard attribute: port, subnet, subnetpool, network, security_group, router, floatingip, policy, trunk, network_segment_range',
    'Enables to set tag on resources with standard attribute.',
  ],
  [
    'standard-attr-timestamp',
    'Resource timestamps',
    'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  ],
  ['stateful-security-group', 'Stateful security group', 'Indicates if the security group is stateful or not'],
];

function render([alias, name, description]: [string, string, string]) {
  return { name, alias, description, updated: '2013-01-20T00:00:00-00:00', links: [] };
}

export function extensionRoutes(app: FastifyInstance): void {
  app.get('/v2.0/extensions', async (req) => {
    tokenOf(req);
    return { extensions: EXTENSIONS.map(render) };
  });
  app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', async (req) => {
    tokenOf(req);
    const ext = EXTENSIONS.find((e) => e[0] === req.params.alias);
    if (!ext) throw new NeutronError(404, 'HTTPNotFound', `Extension with alias ${req.params.alias} does not exist`);
    return { extension: render(ext) };
  });
}
