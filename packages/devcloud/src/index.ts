export { banner, DEVCLOUD_USAGE, parseDevcloudArgs, runDevcloud, runDevcloudCommand, stopSignals } from './cli.ts';
export type { BootstrapUser, Cloud, CreateCloudOptions } from './cloud.ts';
export { createCloud, DEFAULT_USERS } from './cloud.ts';
export * from './context.ts';
export type { Devcloud, DevcloudInfo, DevcloudOptions } from './devcloud.ts';
export { cloudsYaml, startDevcloud, wireK2K } from './devcloud.ts';
export { Faults, parseFaultSpec } from './faults.ts';
export { SERVICES } from './services.ts';
export { MemoryStore, SqliteDatabase } from './store.ts';
