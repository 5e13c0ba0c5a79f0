/**
 * The SDK's multi-cloud fan-out with devcloud's fault injection on real HTTP: a cloud slow by seconds, hanging,
 * answering its body at a trickle, dying mid-body (full Content-Length announced, connection reset part-way) or
 * failing. The healthy clouds' answers are complete and on time, the caller's deadline holds, and a cut or
 * unfinished body is a failure, never a shorter list. Pinned scenarios plus a property over random fault mixes
 * (fast-check, bounded); time bounds are generous because the machine is shared.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import fc from 'fast-check';
import { loadCloudsConfig } from '../src/config/index.ts';
import { MultiCloud } from '../src/multicloud/index.ts';
import type { CallOutcome } from '../src/multicloud/types.ts';
import { collect } from '../src/services/index.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10);
const CLOUDS = ['sp1', 'sp2', 'sp3'] as const;
/** What a healthy cloud may take while the others misbehave (it answers in tens of ms when idle). */
const ON_TIME_MS = 2_000;
/** How far past its deadline a fan-out may return on a loaded machine. */
const SLACK_MS = 1_500;

let dc: Devcloud;
let dir: string;
let multi: MultiCloud;
/** Each cloud's flavor ids, read with no fault: what a complete answer holds. */
const baseline = new Map<string, string[]>();
/** The size of sp1's flavor list body, for cutting it part-way. */
let bodyBytes = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-fanout-faults-'));
  const cloudsYamlPath = join(dir, 'clouds.yaml');
  dc = await startDevcloud({ clouds: ['idp', ...CLOUDS], cloudsYamlPath, logLevel: 'silent' });
  const config = loadCloudsConfig({
    files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
    loadEnv: false,
  });
  multi = await MultiCloud.connect({ config, clouds: [...CLOUDS], deadlineMs: 20_000 });
  assert.deepEqual(multi.connectFailures, []);
  // warm up: discovery and tokens are done, so the faults below hit the list calls themselves
  const warm = await listFlavors(20_000);
  assert.deepEqual(warm.failures, []);
  for (const r of warm.results) baseline.set(r.location.cloud, r.value);
  for (const c of CLOUDS) assert.ok((baseline.get(c)?.length ?? 0) > 1, `${c} lists flavors`);
  const conn = multi.connections().find((c) => c.name === 'sp1')!;
  const access = await conn.session.getAccess();
  const url = `${access.catalog.find((s) => s.type === 'compute')!.endpoints.find((e) => e.interface === 'public')!.url}/flavors/detail`;
  bodyBytes = (await (await fetch(url, { headers: { 'x-auth-token': access.token } })).arrayBuffer()).byteLength;
  assert.ok(bodyBytes > 200, `sp1's flavor list is ${bodyBytes} bytes`);
});
after(async () => {
  await multi?.close();
  await dc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function listFlavors(deadlineMs: number): Promise<CallOutcome<string[]> & { wallMs: number }> {
  const t0 = performance.now();
  const outcome = await multi.call(
    async (conn, _n, ctx) => (await collect(conn.compute.listFlavors({ signal: ctx.signal }))).map((f) => f.id),
    { deadlineMs },
  );
  return { ...outcome, wallMs: performance.now() - t0 };
}

type Fault =
  | { kind: 'none' }
  | { kind: 'slow'; ms: number }
  | { kind: 'hang' }
  | { kind: 'trickle' }
  | { kind: 'cut'; at: number }
  | { kind: 'error' };

async function inject(cloud: string, f: Fault): Promise<void> {
  const spec =
    f.kind === 'slow'
      ? { latencyMs: f.ms }
      : f.kind === 'hang'
        ? { hang: true }
        : f.kind === 'trickle'
          ? { slowBodyBytesPerSec: 50 }
          : f.kind === 'cut'
            ? { cutBodyAfterBytes: Math.max(1, Math.min(bodyBytes - 1, Math.floor(f.at * bodyBytes))) }
            : f.kind === 'error'
              ? { errorRate: 1, errorStatus: 500 }
              : null;
  await dc.setFaults(cloud, 'compute', spec);
}

/** The fan-out's invariants for a mix of faults under one deadline. */
function assertOutcome(
  faults: Record<string, Fault>,
  deadlineMs: number,
  out: Awaited<ReturnType<typeof listFlavors>>,
) {
  const got = new Map(out.results.map((r) => [r.location.cloud, r]));
  const failed = new Map(out.failures.map((f) => [f.cloud, f]));
  const what = JSON.stringify({
    faults,
    deadlineMs,
    results: [...got.keys()],
    failures: [...failed].map(([c, f]) => [c, f.error.code]),
  });
  assert.ok(out.wallMs < deadlineMs + SLACK_MS, `the ${deadlineMs} ms deadline held: ${out.wallMs} ms ${what}`);
  for (const c of CLOUDS) {
    const f = faults[c]!;
    const r = got.get(c);
    assert.ok(!!r !== failed.has(c), `${c} is a result or a failure: ${what}`);
    // never a partial list: an answer is the whole baseline
    if (r) assert.deepEqual(r.value, baseline.get(c), `${c} answered a complete list: ${what}`);
    switch (f.kind) {
      case 'none':
        assert.ok(r, `healthy ${c} answered: ${what}`);
        assert.ok(r.durationMs < ON_TIME_MS, `healthy ${c} on time (${r.durationMs} ms): ${what}`);
        break;
      case 'slow':
        if (f.ms + 1_000 < deadlineMs) assert.ok(r, `${c}, slow by ${f.ms} ms, answered within ${deadlineMs}: ${what}`);
        if (f.ms > deadlineMs + 200) assert.equal(failed.get(c)?.error.code, 'TIMEOUT', what);
        break;
      case 'hang':
      case 'trickle':
        assert.equal(failed.get(c)?.error.code, 'TIMEOUT', `${c} (${f.kind}): ${what}`);
        break;
      case 'cut':
        assert.ok(failed.has(c), `a body cut after ${f.at} of it is a failure, not a list: ${what}`);
        break;
      case 'error':
        assert.equal(failed.get(c)?.error.code, 'SERVICE_ERROR', what);
        break;
    }
  }
}

async function scenario(faults: Record<string, Fault>, deadlineMs: number) {
  try {
    for (const c of CLOUDS) await inject(c, faults[c]!);
    const out = await listFlavors(deadlineMs);
    assertOutcome(faults, deadlineMs, out);
    return out;
  } finally {
    await dc.clearFaults();
  }
}

describe('fan-out under faults: healthy clouds unaffected, deadline held, no truncated success', {
  timeout: 180_000,
}, () => {
  it('one cloud seconds slow (within the deadline): everyone answers, the fast ones at once', async (t) => {
    const out = await scenario(
      { sp1: { kind: 'slow', ms: 2_500 }, sp2: { kind: 'none' }, sp3: { kind: 'none' } },
      6_000,
    );
    const ms = Object.fromEntries(out.results.map((r) => [r.location.cloud, Math.round(r.durationMs)]));
    assert.ok(ms.sp1! >= 2_400, `sp1 took ${ms.sp1} ms`);
    t.diagnostic(`durations ${JSON.stringify(ms)}`);
  });

  it('one cloud slower than the deadline, one hanging: both TIMEOUT at the deadline, the third answers', async (t) => {
    const out = await scenario(
      { sp1: { kind: 'slow', ms: 8_000 }, sp2: { kind: 'hang' }, sp3: { kind: 'none' } },
      2_000,
    );
    t.diagnostic(`returned after ${Math.round(out.wallMs)} ms with a 2000 ms deadline`);
  });

  it('a body cut mid-way or trickling past the deadline is a failure, never a shorter list', async (t) => {
    const out = await scenario(
      { sp1: { kind: 'cut', at: 0.5 }, sp2: { kind: 'trickle' }, sp3: { kind: 'none' } },
      2_500,
    );
    t.diagnostic(
      `sp1 cut after ${Math.floor(bodyBytes / 2)} of ${bodyBytes} bytes: ${out.failures.find((f) => f.cloud === 'sp1')?.error.code}`,
    );
  });

  it('random mixes of faults and deadlines keep every invariant', async (t) => {
    const fault: fc.Arbitrary<Fault> = fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
      { weight: 2, arbitrary: fc.integer({ min: 100, max: 4_000 }).map((ms) => ({ kind: 'slow' as const, ms })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'hang' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'trickle' as const }) },
      {
        weight: 2,
        arbitrary: fc.double({ min: 0, max: 0.999, noNaN: true }).map((at) => ({ kind: 'cut' as const, at })),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'error' as const }) },
    );
    const mix = fc.record({ sp1: fault, sp2: fault, sp3: fault, deadlineMs: fc.integer({ min: 1_500, max: 3_500 }) });
    let n = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(mix, async ({ deadlineMs, ...faults }) => {
        n++;
        const out = await scenario(faults, deadlineMs);
        for (const f of out.failures) codes.set(f.error.code, (codes.get(f.error.code) ?? 0) + 1);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: false },
    );
    t.diagnostic(`${n} cases; failure codes ${JSON.stringify(Object.fromEntries(codes))}`);
    assert.ok(n >= Math.min(RUNS, 5));
  });
});
