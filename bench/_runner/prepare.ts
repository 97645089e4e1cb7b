/**
 * Makes the implementations runnable before a benchmark: builds the C
 * harness when its source is newer, installs zeromq.js for the Node harness
 * when missing, checks that Monocoque's mod.ts loads, and builds and probes
 * the io_uring library; also collects the versions printed with the results.
 *
 * @module
 */

import { BUILD, C_BIN, type Impl, NATIVE_LIB, NODE_DIR, ROOT, ZEROMQ_VERSION } from "./impls.ts";

/** Runs a command to completion; never throws. */
export async function run(
  cmd: string[],
  opts: Deno.CommandOptions = {},
): Promise<{ ok: boolean; out: string }> {
  try {
    const o = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      ...opts,
    }).output();
    const dec = new TextDecoder();
    return { ok: o.success, out: (dec.decode(o.stdout) + dec.decode(o.stderr)).trim() };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

async function mtime(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch {
    return -1;
  }
}

/** Makes each implementation runnable; returns why the ones that are not, are not. */
export async function prepare(impls: Impl[]): Promise<Map<Impl, string>> {
  const problems = new Map<Impl, string>();
  {
    // The C harness is also the idle-connection peer of every implementation.
    const src = `${ROOT}/bench/c/zmq_bench.c`;
    if ((await mtime(C_BIN)) < (await mtime(src))) {
      await Deno.mkdir(BUILD, { recursive: true });
      const cc = Deno.env.get("CC") ?? "cc";
      const r = await run([cc, "-O2", "-Wall", "-o", C_BIN, src, "-lzmq"]);
      if (!r.ok) {
        problems.set("libzmq", `build failed (install libzmq3-dev): ${r.out.slice(0, 300)}`);
      }
    }
  }
  if (impls.includes("zeromqjs")) {
    if ((await mtime(`${NODE_DIR}/node_modules/zeromq/package.json`)) < 0) {
      console.error(`installing zeromq@${ZEROMQ_VERSION} into bench/node/node_modules ...`);
      const r = await run([
        "npm",
        "install",
        "--prefix",
        NODE_DIR,
        `zeromq@${ZEROMQ_VERSION}`,
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--no-package-lock",
      ]);
      if (!r.ok) problems.set("zeromqjs", `npm install failed: ${r.out.slice(-300)}`);
    }
    if (!problems.has("zeromqjs")) {
      const r = await run(["node", "-e", "require('zeromq')"], { cwd: NODE_DIR });
      if (!r.ok) {
        problems.set("zeromqjs", `zeromq.js does not load under Node: ${r.out.slice(0, 300)}`);
      }
    }
  }
  if (impls.includes("monocoque")) {
    const probe = `const m = await import("${ROOT}/mod.ts");` +
      `for (const n of ["PushSocket","PullSocket","ReqSocket","RepSocket","DealerSocket","RouterSocket","XPubSocket","SubSocket"])` +
      `if (typeof m[n] !== "function") throw new Error(n + " is not exported");`;
    const r = await run([Deno.execPath(), "eval", "--quiet", probe]);
    if (!r.ok) {
      problems.set("monocoque", `mod.ts does not load: ${r.out.split("\n").slice(0, 3).join(" ")}`);
    }
  }
  if (impls.includes("native")) {
    const why = problems.get("monocoque") ?? await prepareNative();
    if (why) problems.set("native", why);
  }
  return problems;
}

/** Builds the io_uring library if missing and checks that it loads; returns why not. */
async function prepareNative(): Promise<string | undefined> {
  const src = `${ROOT}/native/monocoque.c`;
  if ((await mtime(NATIVE_LIB)) < (await mtime(src))) {
    console.error("building native/build/libmonocoque.so (make -C native) ...");
    const r = await run(["make", "-C", "native"]);
    if (!r.ok) return `make -C native failed: ${r.out.slice(-300)}`;
  }
  const probe = `import { probeNative } from "${ROOT}/ffi/mod.ts";` +
    `const p = probeNative(); if (!p.available) { console.log(p.reason); Deno.exit(3); }`;
  const r = await run([Deno.execPath(), "eval", "--quiet", probe]);
  if (!r.ok) return `the native transport cannot load: ${r.out.split("\n").slice(0, 3).join(" ")}`;
  return undefined;
}

/** Versions of everything under test, and the machine. */
export async function versions(): Promise<Record<string, string>> {
  const v: Record<string, string> = { deno: Deno.version.deno };
  v.node = (await run(["node", "--version"])).out;
  v.libzmq = (await run(["pkg-config", "--modversion", "libzmq"])).out;
  v.zeromqjs = (await run([
    "node",
    "-e",
    "const z=require('zeromq');console.log(require('zeromq/package.json').version+' (libzmq '+z.version+')')",
  ], { cwd: NODE_DIR })).out;
  v.monocoque = (await run(["git", "rev-parse", "--short", "HEAD"])).out;
  v.kernel = (await run(["uname", "-r"])).out;
  v.cpus = String(navigator.hardwareConcurrency);
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    v.cpu = info.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? "unknown";
  } catch {
    v.cpu = "unknown";
  }
  return v;
}

/** The 1-minute load average, NaN where /proc/loadavg is missing. */
export function loadAverage(): number {
  try {
    return parseFloat(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}
