/**
 * The shade-style cloud layer: one `Cloud` per cloud + region (a Session), normalized resources with `location`,
 * get → null / AMBIGUOUS, delete → false on 404, a single-flight server-list cache, the nodepool surface. `Cloud`
 * is a facade over modules of functions on one `CloudCore` (core.ts), split as openstacksdk's `_compute.py`, ...:
 *   flavors.ts, keypairs.ts, limits.ts            compute resources other than servers
 *   servers.ts, server-create.ts, server-wait.ts  servers: list cache + get + delete, create, wait for ACTIVE
 *   server-power.ts                               servers: reboot, stop, start, pause, suspend, lock, rebuild (and wait)
 *   images.ts                                     images: list, get, create with upload, snapshot, delete
 *   volumes.ts, volume-attach.ts                  volumes, attaching them to servers
 *   networks.ts, floating-attach.ts               networks, ports, security groups, floating IPs
 *   network-manage.ts                             creating and deleting networks, subnets and routers
 *   network-update.ts                             normalized subnets, routers, ports; updating them
 *   security-groups.ts                            creating, updating, deleting security groups and rules
 *   objects.ts                                    object store containers and objects
 *
 * The facade itself is a chain of classes, one file each, every link adding one capability's delegations:
 *   cloud-base.ts     CloudBase: the core, session, service clients, location, capabilities, caches, close
 *   cloud-compute.ts  ComputeFacade: flavors, keypairs, servers, limits, availability zones
 *   cloud-network.ts  NetworkFacade: networks, ports, security groups, subnets, routers, floating IPs
 *   cloud-storage.ts  StorageFacade: images, volumes, volume attachments, object store
 *   cloud.ts          Cloud: the public class
 */
import { StorageFacade } from './cloud-storage.ts';

export type { CloudOptions, Ref } from './core.ts';
export type { CreateImageOptions } from './images.ts';
export type { CreateServerOptions } from './server-create.ts';
export type { WaitForServerOptions } from './server-wait.ts';

/** One cloud + region: every capability of the cloud layer (see the chain above). */
export class Cloud extends StorageFacade {}
