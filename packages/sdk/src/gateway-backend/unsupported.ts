/**
 * The members of the cloud layer a gateway does not offer: each answers UNSUPPORTED naming the method and the
 * gateway, so a program written for the REST backend learns at once (never a silent no-op, never a call to some
 * other cloud). What the gateway serves is in gateway-cloud.ts and the classes it builds on; the raw service
 * clients (REST to the cloud's own endpoints) do not exist for a cloud reached through a gateway.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';

export abstract class GatewayUnsupported {
  abstract get name(): string;
  protected abstract get gatewayUrl(): string;

  protected unsupportedError(what: string): OcxError {
    return new OcxError(
      ErrorCode.UNSUPPORTED,
      `${what} is not offered for cloud '${this.name}': it is reached through the OCX gateway at ${this.gatewayUrl}, and the SDK's gateway backend covers nodepool's surface (flavors, images, keypairs, servers, limits, floating-IP cleanup) and the lists of networks, volumes, security groups and floating IPs`,
      { cloud: this.name },
    );
  }

  #no(what: string): Promise<never> {
    return Promise.reject(this.unsupportedError(what));
  }

  get compute(): never {
    throw this.unsupportedError('the raw compute (Nova) client');
  }
  get image(): never {
    throw this.unsupportedError('the raw image (Glance) client');
  }
  get network(): never {
    throw this.unsupportedError('the raw network (Neutron) client');
  }
  get blockStorage(): never {
    throw this.unsupportedError('the raw block-storage (Cinder) client');
  }
  get objectStore(): never {
    throw this.unsupportedError('the raw object-store (Swift) client');
  }

  /** Nova records to normalize: a cloud behind a gateway has no Nova client here (its servers come normalized). */
  expandServers(..._a: unknown[]): Promise<never> {
    return this.#no('expandServers');
  }
  hasFloatingIps(): Promise<never> {
    return this.#no('hasFloatingIps');
  }
  getServerConsole(..._a: unknown[]): Promise<never> {
    return this.#no('getServerConsole');
  }
  listPorts(..._a: unknown[]): Promise<never> {
    return this.#no('listPorts');
  }
  deletePort(..._a: unknown[]): Promise<never> {
    return this.#no('deletePort');
  }
  createNetwork(..._a: unknown[]): Promise<never> {
    return this.#no('createNetwork');
  }
  deleteNetwork(..._a: unknown[]): Promise<never> {
    return this.#no('deleteNetwork');
  }
  createSubnet(..._a: unknown[]): Promise<never> {
    return this.#no('createSubnet');
  }
  getSubnet(..._a: unknown[]): Promise<never> {
    return this.#no('getSubnet');
  }
  deleteSubnet(..._a: unknown[]): Promise<never> {
    return this.#no('deleteSubnet');
  }
  createRouter(..._a: unknown[]): Promise<never> {
    return this.#no('createRouter');
  }
  setRouterGateway(..._a: unknown[]): Promise<never> {
    return this.#no('setRouterGateway');
  }
  addRouterSubnet(..._a: unknown[]): Promise<never> {
    return this.#no('addRouterSubnet');
  }
  removeRouterSubnet(..._a: unknown[]): Promise<never> {
    return this.#no('removeRouterSubnet');
  }
  deleteRouter(..._a: unknown[]): Promise<never> {
    return this.#no('deleteRouter');
  }
  attachFloatingIp(..._a: unknown[]): Promise<never> {
    return this.#no('attachFloatingIp');
  }
  detachFloatingIp(..._a: unknown[]): Promise<never> {
    return this.#no('detachFloatingIp');
  }
  deleteFloatingIp(..._a: unknown[]): Promise<never> {
    return this.#no('deleteFloatingIp');
  }
  createImageSnapshot(..._a: unknown[]): Promise<never> {
    return this.#no('createImageSnapshot');
  }
  createVolume(..._a: unknown[]): Promise<never> {
    return this.#no('createVolume');
  }
  deleteVolume(..._a: unknown[]): Promise<never> {
    return this.#no('deleteVolume');
  }
  attachVolume(..._a: unknown[]): Promise<never> {
    return this.#no('attachVolume');
  }
  detachVolume(..._a: unknown[]): Promise<never> {
    return this.#no('detachVolume');
  }
  listContainers(..._a: unknown[]): Promise<never> {
    return this.#no('listContainers');
  }
  getContainer(..._a: unknown[]): Promise<never> {
    return this.#no('getContainer');
  }
  createContainer(..._a: unknown[]): Promise<never> {
    return this.#no('createContainer');
  }
  deleteContainer(..._a: unknown[]): Promise<never> {
    return this.#no('deleteContainer');
  }
  listObjects(..._a: unknown[]): Promise<never> {
    return this.#no('listObjects');
  }
  getObjectMetadata(..._a: unknown[]): Promise<never> {
    return this.#no('getObjectMetadata');
  }
  deleteObject(..._a: unknown[]): Promise<never> {
    return this.#no('deleteObject');
  }
  createFloatingIp(..._a: unknown[]): Promise<never> {
    return this.#no('createFloatingIp');
  }
  createPort(..._a: unknown[]): Promise<never> {
    return this.#no('createPort');
  }
  updatePort(..._a: unknown[]): Promise<never> {
    return this.#no('updatePort');
  }
  searchPorts(..._a: unknown[]): Promise<never> {
    return this.#no('searchPorts');
  }
  createSecurityGroup(..._a: unknown[]): Promise<never> {
    return this.#no('createSecurityGroup');
  }
  updateSecurityGroup(..._a: unknown[]): Promise<never> {
    return this.#no('updateSecurityGroup');
  }
  deleteSecurityGroup(..._a: unknown[]): Promise<never> {
    return this.#no('deleteSecurityGroup');
  }
  createSecurityGroupRule(..._a: unknown[]): Promise<never> {
    return this.#no('createSecurityGroupRule');
  }
  deleteSecurityGroupRule(..._a: unknown[]): Promise<never> {
    return this.#no('deleteSecurityGroupRule');
  }
  updateNetwork(..._a: unknown[]): Promise<never> {
    return this.#no('updateNetwork');
  }
  networkFromRecord(..._a: unknown[]): Promise<never> {
    return this.#no('networkFromRecord');
  }
  searchSubnets(..._a: unknown[]): Promise<never> {
    return this.#no('searchSubnets');
  }
  updateSubnet(..._a: unknown[]): Promise<never> {
    return this.#no('updateSubnet');
  }
  subnetFromRecord(..._a: unknown[]): Promise<never> {
    return this.#no('subnetFromRecord');
  }
  searchRouters(..._a: unknown[]): Promise<never> {
    return this.#no('searchRouters');
  }
  routerFromRecord(..._a: unknown[]): Promise<never> {
    return this.#no('routerFromRecord');
  }
  updateVolume(..._a: unknown[]): Promise<never> {
    return this.#no('updateVolume');
  }
  extendVolume(..._a: unknown[]): Promise<never> {
    return this.#no('extendVolume');
  }
  listContainersPage(..._a: unknown[]): Promise<never> {
    return this.#no('listContainersPage');
  }
  listObjectsPage(..._a: unknown[]): Promise<never> {
    return this.#no('listObjectsPage');
  }
  setContainerMetadata(..._a: unknown[]): Promise<never> {
    return this.#no('setContainerMetadata');
  }
}
