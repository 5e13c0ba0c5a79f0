/**
 * The engine's request pipeline: small stages over one per-request context (`Call`), each handing on with `next`
 * and returning the status the client got — composed the way connect-es's run-call.ts composes interceptors, each
 * stage wrapping the rest. A stage that answers (a refusal, an extension's own answer, an error body) simply does
 * not call `next`. Order (engine.ts): admit → version documents → authenticate → extensions → route →
 * credentials → forward (which learns and publishes to the native lane as the answer goes out).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine.ts';
import type { Extension, ExtensionContext } from '../extensions/types.ts';
import type { ParsedPath } from '../paths.ts';
import type { Credential, RequestState } from './context.ts';

/** One request while the pipeline runs: what the stages found out so far. */
export interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly started: number;
  readonly method: string;
  readonly url: { pathname: string; searchParams: URLSearchParams };
  readonly token: string | undefined;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /** The service the path names ('unknown' until admitted). */
  service: string;
  parsed?: ParsedPath | undefined;
  proxyList: string[];
  /** The authenticated request (authenticate). */
  st?: RequestState | undefined;
  /** Extensions on this route and their context (extensions). */
  exts: Extension[];
  ext?: ExtensionContext | undefined;
  /** Where it goes (route) and with what credential (credentials). */
  target?: string | undefined;
  cred?: Credential | undefined;
  /** The upstream deadline, set when the credential is sought (it counts against the same deadline). */
  deadline?: number | undefined;
}

export type Next = () => Promise<number>;
export type Stage = (eng: Engine, call: Call, next: Next) => Promise<number>;

/** Run `stages` in order over `call`; past the last one there is nothing to do (a stage must have answered). */
export function runStages(stages: readonly Stage[], eng: Engine, call: Call): Promise<number> {
  const at =
    (i: number): Next =>
    () => {
      const stage = stages[i];
      if (!stage) throw new Error('the request pipeline ended without an answer');
      return stage(eng, call, at(i + 1));
    };
  return at(0)();
}
