/** Cinder's faults (ApiFault, rendered by fault-bodies.ts `cinderFaultBody`) with Cinder's wording. */
import { ApiFault } from '../fault.ts';

export const notFound = (message = 'The resource could not be found.') => new ApiFault(404, message);
export const badRequest = (message: string) => new ApiFault(400, message);
export const forbidden = (action: string) => new ApiFault(403, `Policy doesn't allow ${action} to be performed.`);
export const overLimit = (message: string) => new ApiFault(413, message);
