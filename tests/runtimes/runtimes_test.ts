/**
 * The Node and Bun suites, inside `deno task test`: each `*_scenarios.ts`
 * file here is bundled with esbuild (pinned in tools/setup.sh, installed into
 * tools/node_modules) for Node 20, then run under `node` and under `bun`;
 * every scenario must print `ok - name`, and the run must exit 0.
 *
 * The scenarios import `mod.ts` as users do, so under Node and Bun the
 * registry picks the `node:net` transports for tcp and ipc, and `npm:ws`
 * (from tools/node_modules, hence the bundles are written below it) for ws.
 * A bundle may drive Monocoque sockets on Deno, in this process: it prints
 * `@deno {json}` lines, which `_deno_side.ts` runs, answering on its stdin.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DenoSide } from "./_deno_side.ts";

const root = new URL("../../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);
const tools = `${rootPath}tools/node_modules`;
const FILES = [
  "transport_scenarios.ts",
  "socket_scenarios.ts",
  "reliability_scenarios.ts",
  "interop_scenarios.ts",
  "ws_scenarios.ts",
];
const RUNTIMES = [
  { name: "node", command: "node" },
  { name: "bun", command: `${tools}/.bin/bun` },
];
/** The longest one scenario file may run, in milliseconds. */
const FILE_MS = 240_000;

async function bundle(file: string, outdir: string): Promise<string> {
  const outfile = `${outdir}/${file.replace(/\.ts$/, ".mjs")}`;
  const { code, stderr } = await new Deno.Command(`${tools}/.bin/esbuild`, {
    args: [
      `${rootPath}tests/runtimes/${file}`,
      "--bundle",
      "--format=esm",
      "--platform=node",
      "--target=node20",
      `--outfile=${outfile}`,
      "--log-level=error",
    ],
    // The @noble packages deno.json maps are resolved from tools/node_modules.
    env: { NODE_PATH: tools },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, `esbuild failed (run tools/setup.sh): ${new TextDecoder().decode(stderr)}`);
  return outfile;
}

async function runBundle(command: string, bundled: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(command, {
    args: [bundled],
    cwd: rootPath,
    // ws_scenarios.ts runs a Deno wss client.
    env: { DENO_BIN: Deno.execPath() },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), FILE_MS);
  const side = new DenoSide();
  const stdin = child.stdin.getWriter();
  let writes = Promise.resolve();
  const answer = (line: string) => {
    writes = writes.then(() => stdin.write(new TextEncoder().encode(line + "\n"))).catch(() => {});
  };
  const out: string[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("@deno ")) side.handle(line.slice("@deno ".length), answer);
        else out.push(line);
      }
    }
    out.push(rest);
  })();
  try {
    const [status, , stderr] = await Promise.all([
      child.status,
      reading,
      new Response(child.stderr).text(),
    ]);
    return { code: status.code, out: out.join("\n") + stderr };
  } finally {
    clearTimeout(timer);
    await side.close();
    await writes;
    await stdin.close().catch(() => {});
  }
}

for (const runtime of RUNTIMES) {
  Deno.test(`the transport, socket, reliability, interop and ws scenarios pass under ${runtime.name}`, async (t) => {
    // Below tools/node_modules, so that the bundles' import("ws") finds the package there.
    await Deno.mkdir(`${tools}/.cache`, { recursive: true });
    const outdir = await Deno.makeTempDir({
      dir: `${tools}/.cache`,
      prefix: `monocoque-${runtime.name}-`,
    });
    try {
      // RUNTIMES_FILES=ws_scenarios.ts (comma-separated) runs only those files.
      const only = Deno.env.get("RUNTIMES_FILES")?.split(",");
      for (const file of FILES.filter((f) => only === undefined || only.includes(f))) {
        await t.step(file, async () => {
          const bundled = await bundle(file, outdir);
          const { code, out } = await runBundle(runtime.command, bundled);
          if (Deno.env.get("RUNTIMES_VERBOSE")) console.log(out);
          const lines = out.split("\n");
          const failed = lines.filter((l) => l.startsWith("not ok - "));
          assert.deepEqual(failed, [], out);
          assert.ok(
            lines.filter((l) => l.startsWith("ok - ")).length > 0,
            `no scenario ran:\n${out}`,
          );
          assert.equal(code, 0, out);
        });
      }
    } finally {
      await Deno.remove(outdir, { recursive: true });
    }
  });
}

Deno.test("mod.ts bundles for a browser with no node: import, the Node transports inside", async () => {
  // esbuild for the browser fails on any node: import it can see; the Node
  // transports import node:net through a specifier it cannot.
  const outdir = await Deno.makeTempDir({ prefix: "monocoque-browser-" });
  try {
    const { code, stderr } = await new Deno.Command(`${tools}/.bin/esbuild`, {
      args: [
        `${rootPath}mod.ts`,
        "--bundle",
        "--format=esm",
        "--platform=browser",
        `--outfile=${outdir}/mod.js`,
        "--log-level=error",
      ],
      env: { NODE_PATH: tools },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const js = await Deno.readTextFile(`${outdir}/mod.js`);
    assert.doesNotMatch(js, /^import .* from ["']node:/m);
    assert.doesNotMatch(js, /import\(["']node:/);
    assert.match(js, /NodeTcpTransport/);
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});
