// Public exports of session/.
export type * from './types.ts';
