/**
 * The service modules every devcloud cloud runs, besides Keystone (which the framework always mounts at
 * /identity). Each service owner adds one import and one entry here.
 */
import { cinderModule, cinderV3CatalogModule } from './cinder/index.ts';
import type { ServiceModule } from './context.ts';
import { glanceModule } from './glance/index.ts';
import { neutronService } from './neutron/index.ts';
import { novaService } from './nova/index.ts';
import { swiftModule } from './swift/index.ts';

export const SERVICES: ServiceModule[] = [
  novaService,
  neutronService,
  cinderModule,
  cinderV3CatalogModule,
  glanceModule,
  swiftModule,
];
