/**
 * Stand-alone entry: `node packages/proxy/src/main.ts --home-cloud NAME [--listen H:P] [--db PATH|URL]
 * [--clouds-file PATH]`. Prints `listening <url>` on stdout once ready; stops on SIGINT/SIGTERM.
 * (`ocx proxy` is the user-facing command; this entry lets tests run the proxy as a separate process.)
 */
import { parseArgs } from 'node:util';
import { startProxy } from './start.ts';

const { values } = parseArgs({
  options: {
    'home-cloud': { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1:9913' },
    db: { type: 'string', default: 'ocx-proxy.sqlite' },
    'clouds-file': { type: 'string' },
    'log-level': { type: 'string' },
  },
});
if (!values['home-cloud']) {
  process.stderr.write('usage: main.ts --home-cloud NAME [--listen HOST:PORT] [--db PATH|postgres://…]\n');
  process.exit(2);
}
const proxy = await startProxy({
  homeCloud: values['home-cloud'],
  listen: values.listen,
  db: values.db,
  cloudsFile: values['clouds-file'],
  logLevel: values['log-level'],
});
process.stdout.write(`listening ${proxy.url}\n`);
const stop = () => {
  proxy.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
