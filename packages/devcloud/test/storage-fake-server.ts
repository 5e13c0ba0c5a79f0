/**
 * A child process serving Glance and Swift on a fake CloudContext, so a test can read this process's own peak RSS
 * (VmHWM) while it streams large bodies. Prints its base URL on stdout, then serves until killed.
 */
import { glanceModule } from '../src/glance/index.ts';
import { swiftModule } from '../src/swift/index.ts';
import { startFake } from './storage-fake-ctx.ts';

// Collect garbage often so peak RSS shows what the server retains, not how lazily V8 frees streamed chunks.
const gc = (globalThis as { gc?: (opts?: { type: 'minor' | 'major' }) => void }).gc;
if (gc) setInterval(() => gc({ type: 'minor' }), 50).unref();

const cloud = await startFake([glanceModule, swiftModule]);
process.stdout.write(`${cloud.baseUrl}\n`);
process.on('SIGTERM', () => {
  void cloud.close().finally(() => process.exit(0));
});
