/**
 * `deno task build:npm`: builds the npm package of Monocoque into `npm/dist`
 * (git-ignored; `--out DIR` for another folder): ESM bundles of the `.` and
 * `./protocol` entries by esbuild (code splitting, so both share one
 * `ZmqError`), declarations by tsc (`--emitDeclarationOnly --noCheck`: the
 * sources have no slow types, so no inference is needed and Deno's own
 * types need not resolve), and a package.json with `exports`, `engines`
 * (Node ≥ 20; Bun runs it too) and the npm packages `src/` imports as
 * dependencies, at the versions deno.json maps. esbuild and tsc are the
 * pinned ones tools/setup.sh installs into tools/node_modules.
 *
 * Under Node and Bun the tcp and ipc transports import `node:net` on first
 * use (src/transport/_node_net.ts), so the same files load in a browser.
 *
 * @module
 */

const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const bin = `${root}tools/node_modules/.bin`;
const ENTRIES = { ".": "mod.ts", "./protocol": "src/protocol/mod.ts" } as const;

function outDir(): string {
  const i = Deno.args.indexOf("--out");
  const dir = i >= 0 ? Deno.args[i + 1] : `${root}npm/dist`;
  if (!dir) throw new TypeError("--out needs a directory");
  return dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
}

async function exec(command: string, args: string[], env?: Record<string, string>): Promise<void> {
  const { code, stderr, stdout } = await new Deno.Command(command, {
    args,
    cwd: root,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const dec = new TextDecoder();
    throw new Error(
      `${command} failed (run tools/setup.sh):\n${dec.decode(stdout)}${dec.decode(stderr)}`,
    );
  }
}

/** The npm packages `src/` imports through deno.json's map, with their pinned versions. */
async function dependencies(imports: Record<string, string>): Promise<Record<string, string>> {
  const sources: string[] = [];
  for await (const file of walk(`${root}src`)) sources.push(await Deno.readTextFile(file));
  const deps: Record<string, string> = {};
  for (const [key, target] of Object.entries(imports)) {
    if (!sources.some((s) => s.includes(`from "${key}"`))) continue;
    const m = /^npm:((?:@[^/@]+\/)?[^/@]+)@([^/]+)/.exec(target);
    if (m === null) throw new Error(`${key} maps to ${target}, not a pinned npm: package`);
    deps[m[1]] = m[2];
    const installed = JSON.parse(
      await Deno.readTextFile(`${root}tools/node_modules/${m[1]}/package.json`),
    ).version;
    if (installed !== m[2]) {
      throw new Error(`tools/node_modules has ${m[1]}@${installed}, deno.json maps ${m[2]}`);
    }
  }
  return deps;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

const out = outDir();
const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
const deps = await dependencies(config.imports ?? {});
await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(out, { recursive: true });

await exec(`${bin}/esbuild`, [
  ...Object.values(ENTRIES),
  "--bundle",
  "--splitting",
  "--format=esm",
  "--platform=neutral",
  "--target=es2022",
  "--outbase=.",
  `--outdir=${out}`,
  "--chunk-names=chunks/[name]-[hash]",
  "--log-level=error",
  ...Object.keys(deps).map((d) => `--external:${d}`),
]);
await exec(`${bin}/tsc`, [
  "--declaration",
  "--emitDeclarationOnly",
  "--noCheck",
  "--allowImportingTsExtensions",
  "--rewriteRelativeImportExtensions",
  "--target",
  "es2022",
  "--module",
  "esnext",
  "--moduleResolution",
  "bundler",
  "--lib",
  "es2022,dom,esnext.disposable",
  "--rootDir",
  ".",
  "--outDir",
  out,
  ...Object.values(ENTRIES),
]);

const js = (entry: string) => `./${entry.replace(/\.ts$/, ".js")}`;
const dts = (entry: string) => `./${entry.replace(/\.ts$/, ".d.ts")}`;
const pkg = {
  name: config.name,
  version: config.version,
  description:
    "ZeroMQ (ZMTP 3.1) in TypeScript: every socket type, NULL/PLAIN/CURVE, tcp/ipc/inproc; no native addon",
  license: config.license,
  type: "module",
  exports: Object.fromEntries(
    Object.entries(ENTRIES).map(([key, entry]) => [key, { types: dts(entry), import: js(entry) }]),
  ),
  types: dts(ENTRIES["."]),
  engines: { node: ">=20", bun: ">=1.1" },
  dependencies: deps,
  keywords: ["zeromq", "zmq", "zmtp", "deno", "node", "bun"],
};
await Deno.writeTextFile(`${out}/package.json`, JSON.stringify(pkg, null, 2) + "\n");
await Deno.copyFile(`${root}LICENSE`, `${out}/LICENSE`);
await Deno.copyFile(`${root}README.md`, `${out}/README.md`);
console.log(`built ${pkg.name}@${pkg.version} into ${out}`);
