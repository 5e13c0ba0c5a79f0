import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { pino } from 'pino';
import { MASK, scrubSecrets } from './redact.ts';

export interface CreateLoggerOptions {
  /** pino level (default: env OCX_LOG_LEVEL, else 'silent' — an SDK is quiet unless asked). */
  level?: string | undefined;
  name?: string | undefined;
  /** Where lines go (default: stderr). Tests pass a stream to capture output. */
  destination?: DestinationStream | NodeJS.WritableStream | undefined;
  /** Extra pino options (redact paths are merged with ours). */
  pinoOptions?: LoggerOptions | undefined;
}

/** pino paths masked structurally wherever they appear one level down in a log object. */
const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  'headers["x-service-token"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.token',
  '*.headers["x-auth-token"]',
  '*.headers["x-subject-token"]',
  '*.headers["x-service-token"]',
  'auth.application_credential_secret',
  '*.auth.application_credential_secret',
];

/**
 * A pino logger that never writes a token: structural redaction of well-known paths, plus a last-line scrub of
 * every secret the SDK has seen (tokens, passwords) in the serialized line.
 */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const extra = opts.pinoOptions ?? {};
  const extraRedact = Array.isArray(extra.redact) ? extra.redact : (extra.redact?.paths ?? []);
  const options: LoggerOptions = {
    ...extra,
    name: opts.name ?? extra.name ?? 'ocx',
    level: opts.level ?? extra.level ?? process.env.OCX_LOG_LEVEL ?? 'silent',
    redact: { paths: [...REDACT_PATHS, ...extraRedact], censor: MASK },
    hooks: {
      ...extra.hooks,
      streamWrite: (line: string) => scrubSecrets(extra.hooks?.streamWrite ? extra.hooks.streamWrite(line) : line),
    },
  };
  const dest = opts.destination ?? pino.destination({ fd: 2, sync: false });
  return pino(options, dest as DestinationStream);
}
