// Public exports of synnefo/: the Synnefo dialect (Astakos, Cyclades, Plankton, Pithos) kamaki style.

export {
  type AstakosAccess,
  type AstakosProject,
  type AstakosQuotas,
  type AstakosResource,
  type CycladesKind,
  isSynnefoCloud,
  type PlanktonImage,
  pithosBlockHash,
  SynnefoClient,
} from './client.ts';
export { synnefoClientFor, synnefoProjects, synnefoQuotaRows } from './quotas.ts';
