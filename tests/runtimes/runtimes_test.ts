/**
 * The Node and Bun suites, inside `deno task test`: each `*_scenarios.ts`
 * file here is bundled with esbuild (pinned in tools/setup.sh, installed into
 * tools/node_modules) for Node 20, then run under `node` and under `bun`;
 * every scenario must print `ok - name`, and the run must exit 0.
 *
 * The scenarios import `mod.ts` as users do, so under Node and Bun the
 * registry picks the `node:net` transports for tcp and ipc.
 *
 * @module
 */

import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);
const tools = `${rootPath}tools/node_modules`;
const FILES = [
  "transport_scenarios.ts",
  "socket_scenarios.ts",
  "reliability_scenarios.ts",
  "interop_scenarios.ts",
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
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), FILE_MS);
  try {
    const { code, stdout, stderr } = await child.output();
    const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    return { code, out };
  } finally {
    clearTimeout(timer);
  }
}

for (const runtime of RUNTIMES) {
  Deno.test(`the transport, socket, reliability and interop scenarios pass under ${runtime.name}`, async (t) => {
    const outdir = await Deno.makeTempDir({ prefix: `monocoque-${runtime.name}-` });
    try {
      for (const file of FILES) {
        await t.step(file, async () => {
          const bundled = await bundle(file, outdir);
          const { code, out } = await runBundle(runtime.command, bundled);
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
