// Public exports of @ocx/cli: run the CLI in-process, and the pieces other packages register commands with.
export { main, processContext } from './main.ts';
export { buildProgram } from './program.ts';
export type { CliContext, GlobalOptions, RegisterCommands } from './context.ts';
export type { Passthrough } from './commands/passthrough.ts';
export { renderList, renderOne, human, FORMATS, type Format, type OutputOptions, type Row } from './output.ts';
