// Public exports of config/ (owned by the engineer working on config/).
export {};
export type * from './types.ts';
