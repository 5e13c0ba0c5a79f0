/**
 * The service modules every devcloud cloud runs, besides Keystone (which the framework always mounts at
 * /identity). Each service owner adds one import and one entry here.
 */
import type { ServiceModule } from './context.ts';
import { neutronService } from './neutron/index.ts';
import { novaService } from './nova/index.ts';

export const SERVICES: ServiceModule[] = [novaService, neutronService];
