export type { Cloud, CreateCloudOptions, BootstrapUser } from './cloud.ts';
export { createCloud, DEFAULT_USERS } from './cloud.ts';
export * from './context.ts';
export { Faults, parseFaultSpec } from './faults.ts';
export { SERVICES } from './services.ts';
export { MemoryStore, SqliteDatabase } from './store.ts';
