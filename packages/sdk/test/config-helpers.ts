import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway directory tree for config tests: `cwd/` and `home/` plus helpers to write files into them. */
export class ConfigSandbox {
  readonly root: string;
  readonly cwd: string;
  readonly home: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'ocx-config-'));
    this.cwd = join(this.root, 'cwd');
    this.home = join(this.root, 'home');
    mkdirSync(this.cwd, { recursive: true });
    mkdirSync(this.home, { recursive: true });
  }

  /** Write `text` at `rel` (relative to the sandbox root) and return the absolute path. */
  write(rel: string, text: string): string {
    const path = join(this.root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  /** Options for loadCloudsConfig that search only this sandbox (and an env without the host's OS_* vars). */
  opts(env: Record<string, string> = {}) {
    return { cwd: this.cwd, home: this.home, env };
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
