/**
 * devcloud's one internal fault type. Routes, models and InternalApis throw an `ApiFault`; each service's error
 * handler turns it into that service's real wire body with its renderer in `fault-bodies.ts` (Nova/Cinder
 * `{"itemNotFound": {...}}`, Neutron `{"NeutronError": {...}}`, Keystone `{"error": {...}}`, Glance's webob
 * page, Swift's swob page). A fault thrown by one service's InternalApis and caught by another is rendered in
 * the caller's shape, as the real service would answer its own client.
 */

export interface FaultOptions {
  /** Neutron's fault type (`NetworkNotFound`, `PolicyNotAuthorized`); the others name a fault by its status. */
  type?: string;
  /** Neutron's `detail`. */
  detail?: string;
  /** Headers the response carries with the fault (`Allow`, `Content-Range`, a microversion echo, ...). */
  headers?: Record<string, string>;
}

export class ApiFault extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly detail: string;
  readonly headers: Record<string, string>;
  /**
   * `message` is what the service says; '' (Swift only) means the service's default page for the status.
   */
  constructor(status: number, message = '', options: FaultOptions = {}) {
    super(message);
    this.status = status;
    this.type = options.type;
    this.detail = options.detail ?? '';
    this.headers = options.headers ?? {};
  }
}
