/**
 * Stand-alone entry (tests run the proxy as a child process with it): the same arguments as `ocx proxy`.
 */
import { runProxyCommand } from './cli.ts';

process.exitCode = await runProxyCommand(process.argv.slice(2));
