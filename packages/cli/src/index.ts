// Public exports of @ocx/cli: run the CLI in-process, and the pieces other packages register commands with.

export type { Passthrough } from './commands/passthrough.ts';
export type { CliContext, GlobalOptions, RegisterCommands } from './context.ts';
export { main, processContext } from './main.ts';
export { FORMATS, type Format, human, type OutputOptions, type Row, renderList, renderOne } from './output.ts';
export { buildProgram } from './program.ts';
