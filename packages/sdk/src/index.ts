// The SDK's public surface: each folder owns its index.ts; this file only re-exports them.

export * from './auth/index.ts';
export * from './cloud/index.ts';
export * from './config/index.ts';
export * from './errors/index.ts';
export * from './gateway-backend/index.ts';
export * from './multicloud/index.ts';
export * from './quotas/index.ts';
export * from './services/index.ts';
export * from './session/index.ts';
export * from './synnefo/index.ts';
export * from './transfer/index.ts';
export * from './transport/index.ts';
export * from './wire/index.ts';
