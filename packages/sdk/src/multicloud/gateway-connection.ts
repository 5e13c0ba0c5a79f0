/**
 * A cloud reached through an OCX gateway (clouds.yaml `gateway:`) as a MultiCloud connection: its cloud layer is
 * the gateway backend (`GatewayCloud`, gRPC), its session only logs in to the home Keystone for the bearer token.
 * There are no REST service clients for it — the cloud's own endpoints are the gateway's business, and the home
 * cloud's catalog (the session's) is another cloud — so they answer UNSUPPORTED instead of reaching the wrong one.
 */
import type { CloudOptions } from '../cloud/core.ts';
import type { CloudConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { GatewayCloud } from '../gateway-backend/gateway-cloud.ts';
import type { ServiceClient, Session } from '../session/types.ts';
import type { Connection } from './types.ts';

export class GatewayConnection implements Connection {
  readonly name: string;
  readonly cloud: string;
  readonly region: string;
  readonly config: CloudConfig;
  readonly via = 'gateway' as const;
  readonly home: string | undefined = undefined;
  readonly tags: readonly string[];
  readonly session: Session;
  readonly cloudLayer: GatewayCloud;

  constructor(init: {
    name: string;
    config: CloudConfig;
    session: Session;
    tags?: readonly string[] | undefined;
    cloudOptions?: CloudOptions | undefined;
  }) {
    this.name = init.name;
    this.config = init.config;
    this.cloud = init.config.name;
    this.region = init.config.regionName;
    this.session = init.session;
    this.tags = Object.freeze([...(init.tags ?? [])]);
    this.cloudLayer = new GatewayCloud({ config: init.config, session: init.session, options: init.cloudOptions });
  }

  #unsupported(what: string): never {
    throw new OcxError(
      ErrorCode.UNSUPPORTED,
      `cloud '${this.name}' is reached through the OCX gateway at ${this.config.gateway?.url}: ${what} is not available; use conn.cloudLayer`,
      { cloud: this.cloud },
    );
  }

  client(serviceType: string): ServiceClient {
    return this.#unsupported(`a REST client for ${serviceType}`);
  }
  get identity(): never {
    return this.#unsupported('the identity client');
  }
  get compute(): never {
    return this.#unsupported('the compute client');
  }
  get image(): never {
    return this.#unsupported('the image client');
  }
  get network(): never {
    return this.#unsupported('the network client');
  }
  get blockStorage(): never {
    return this.#unsupported('the block-storage client');
  }
  get objectStore(): never {
    return this.#unsupported('the object-store client');
  }

  /** Close the gRPC connection to the gateway (the MultiCloud closes the session). */
  close(): Promise<void> {
    return this.cloudLayer.close();
  }
}
