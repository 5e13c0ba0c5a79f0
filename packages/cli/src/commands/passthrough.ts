import type { CliContext } from '../context.ts';

/** A command whose arguments go, unparsed, to a function of another package. Returns the exit status. */
export type Passthrough = (argv: string[], ctx: CliContext) => Promise<number>;

/** Load `pkg` and call its `fn(argv)`; a package that does not export it yet is a clear error, not a crash. */
export async function passthroughTo(pkg: string, fn: string, argv: string[], ctx: CliContext): Promise<number> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    ctx.err(`Error: cannot load ${pkg}: ${(err as Error).message}\n`);
    return 1;
  }
  const run = mod[fn];
  if (typeof run !== 'function') {
    ctx.err(`Error: this build of ${pkg} does not provide ${fn}() yet\n`);
    return 1;
  }
  const code = await (run as (argv: string[]) => Promise<number | undefined>)(argv);
  return typeof code === 'number' ? code : 0;
}
