/**
 * The members of the cloud layer a gateway does not offer: each answers UNSUPPORTED naming the method and the
 * gateway, so a program written for the REST backend learns at once (never a silent no-op, never a call to some
 * other cloud). What the gateway serves is in gateway-cloud.ts and the classes it builds on (an option one of its
 * RPCs cannot carry is refused there the same way, naming the option). Left here: the raw service clients (REST to
 * the cloud's own endpoints do not exist for a cloud reached through a gateway) and Nova records to normalize.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';

export abstract class GatewayUnsupported {
  abstract get name(): string;
  protected abstract get gatewayUrl(): string;

  protected unsupportedError(what: string): OcxError {
    return new OcxError(
      ErrorCode.UNSUPPORTED,
      `${what} is not offered for cloud '${this.name}': it is reached through the OCX gateway at ${this.gatewayUrl}, and the SDK's gateway backend covers what the gateway has RPCs for: flavors, images, keypairs, servers and their power actions, limits, networks, subnets, routers, ports, security groups and rules, floating IPs, volumes and their attachments, containers and objects (not the raw service clients)`,
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
}
