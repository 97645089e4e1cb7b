/**
 * One run of one scenario for one implementation: a fresh endpoint, the
 * binding processes first, the others once those are ready, every wait under
 * a deadline, holders released once the finishers reported, everything
 * killed at the end. Never throws, never hangs: a failure is an outcome.
 *
 * @module
 */

import { command, type Impl } from "./impls.ts";
import { deadline, type Json, Proc } from "./proc.ts";
import type { ProcSpec, RoleResult, Scenario } from "./types.ts";

/** What one run produced. */
export interface RunOutcome {
  ok: boolean;
  error?: string;
  metrics: Record<string, number>;
  /** Peak RSS per role, KiB. */
  rss: Record<string, number>;
  count: number;
  wallSecs: number;
}

let endpointSeq = 0;

/** A free endpoint of `transport` and how to clean it up afterwards. */
async function endpoint(transport: string): Promise<{ ep: string; cleanup: () => void }> {
  if (transport === "ipc") {
    const path = `/tmp/monocoque-bench-${Deno.pid}-${++endpointSeq}.sock`;
    const cleanup = () => Deno.remove(path).catch(() => {});
    await cleanup();
    return { ep: `ipc://${path}`, cleanup: () => void cleanup() };
  }
  // A port the kernel just handed out and we released: free for the next few ms.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return { ep: `tcp://127.0.0.1:${port}`, cleanup: () => {} };
}

/** Runs one scenario once for one implementation; never throws, never hangs. */
export async function runOnce(
  s: Scenario,
  impl: Impl,
  count: number,
  timeoutMs: number,
): Promise<RunOutcome> {
  const { ep, cleanup } = await endpoint(s.transport ?? "tcp");
  const specs = s.plan(ep, count, impl);
  const procs: [ProcSpec, Proc][] = [];
  const start = performance.now();
  const outcome: RunOutcome = { ok: false, metrics: {}, rss: {}, count, wallSecs: 0 };
  const startAll = (order: 1 | 2) => {
    for (const spec of specs.filter((p) => p.order === order)) {
      const who = spec.impl === "self"
        ? impl
        : spec.impl === "base"
        ? (impl === "native" ? "monocoque" : impl)
        : spec.impl;
      const name = `${who} ${spec.args[0]}`;
      procs.push([spec, new Proc(name, command(who, spec.args, spec.denoFlags), s.env?.())]);
    }
    return Promise.all(
      procs.filter(([sp]) => sp.order === order).map(([, p]) =>
        deadline(p.ready, 30_000, `${p.name} ready`)
      ),
    );
  };
  try {
    await startAll(1);
    await startAll(2);
    const finishers = procs.filter(([sp]) => !sp.holds);
    const results = new Map<string, Json>();
    await Promise.all(finishers.map(async ([sp, p]) => {
      results.set(sp.role, await deadline(p.result, timeoutMs, `${p.name} result`));
    }));
    const holders = procs.filter(([sp]) => sp.holds);
    for (const [, p] of holders) await p.closeStdin();
    await Promise.all(holders.map(async ([sp, p]) => {
      try {
        results.set(sp.role, await deadline(p.result, 10_000, `${p.name} result`));
      } catch (err) {
        console.error(`  warning: ${(err as Error).message}`);
      }
    }));
    for (const [role, r] of results) {
      if (typeof r.rss_peak_kb === "number") outcome.rss[role] = r.rss_peak_kb;
    }
    // V8 writes --trace-gc lines through a stdio buffer that is flushed at exit.
    const traced = procs.filter(([sp]) => sp.denoFlags?.length);
    await Promise.all(traced.map(([, p]) => deadline(p.drained, 10_000, `${p.name} exit`)));
    const roles: RoleResult[] = [...results].map(([role, result]) => ({
      role,
      result,
      gc: procs.find(([sp]) => sp.role === role)?.[1].gc ?? [],
    }));
    outcome.metrics = s.measure(roles);
    outcome.ok = true;
  } catch (err) {
    outcome.error = (err as Error).message.slice(0, 300);
    for (const [, p] of procs) {
      const tail = p.stderrTail();
      if (tail && !outcome.error.includes(tail)) outcome.error += ` [${p.name}: ${tail}]`;
    }
  } finally {
    for (const [, p] of procs) p.kill();
    await Promise.all(procs.map(([, p]) => deadline(p.status, 5000, "exit").catch(() => {})));
    cleanup();
  }
  outcome.wallSecs = (performance.now() - start) / 1000;
  return outcome;
}
