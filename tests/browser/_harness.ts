/**
 * The Deno side of the browser test: {@linkcode bundle}s `_page.ts` (and
 * with it `mod.ts`) with the pinned esbuild for the browser, serves it on loopback
 * with {@linkcode servePage}, and has headless Chromium run it through
 * `_driver.mjs` (playwright-core under Node) with {@linkcode runPage}.
 * tools/setup.sh installs all three (Debian's chromium, esbuild and
 * playwright-core in tools/node_modules).
 *
 * @module
 */

import type { PageConfig, PageReport } from "./_page.ts";
import { withTimeout } from "../_util/timeout.ts";

const root = new URL("../../", import.meta.url);
const tools = new URL("tools/node_modules/", root);
const ESBUILD = new URL(".bin/esbuild", tools).pathname;
const PLAYWRIGHT = new URL("playwright-core/package.json", tools).pathname;
const DRIVER = new URL("tests/browser/_driver.mjs", root).pathname;
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

const HTML = `<!doctype html>
<meta charset="utf-8">
<title>Monocoque in a browser</title>
<pre id="result"></pre>
<script type="module" src="/page.js"></script>
`;

/** Throws, saying what to run, unless esbuild, playwright-core and Chromium are installed. */
export function assertInstalled(): void {
  for (const path of [ESBUILD, PLAYWRIGHT, CHROMIUM]) {
    try {
      Deno.statSync(path);
    } catch {
      throw new Error(`${path} is missing: run \`bash tools/setup.sh\` (as root) first`);
    }
  }
}

/** What esbuild made of an entry. */
export interface Bundle {
  /** The bundled script. */
  readonly code: string;
  /** What esbuild printed on stderr (warnings; empty when clean). */
  readonly diagnostics: string;
}

/**
 * Bundles a module of this repository for the browser: ESM,
 * `platform: "browser"`, no shims and no externals, so a `node:` import
 * anywhere on the path fails the build. The `@noble` packages resolve by
 * bare name from tools/node_modules (NODE_PATH: the repository's own
 * sources are not under it).
 *
 * @param entry The module, relative to the repository's root; default the test page's script.
 */
export async function bundle(entry = "tests/browser/_page.ts"): Promise<Bundle> {
  const output = await withTimeout(
    new Deno.Command(ESBUILD, {
      args: [
        new URL(entry, root).pathname,
        "--bundle",
        "--format=esm",
        "--platform=browser",
        "--log-level=warning",
      ],
      env: { NODE_PATH: tools.pathname },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output(),
    60_000,
    "esbuild",
  );
  const diagnostics = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`esbuild failed on ${entry}:\n${diagnostics}`);
  return { code: new TextDecoder().decode(output.stdout), diagnostics };
}

/** A loopback HTTP server for the page and its bundle. */
export interface PageServer extends AsyncDisposable {
  /** The page's address. */
  readonly url: string;
  /** The page's origin, as its WebSockets send it in `Origin`. */
  readonly origin: string;
}

/** Serves the page at `/` and `bundle` at `/page.js` on 127.0.0.1, any free port. */
export function servePage(bundle: string): PageServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/") return new Response(HTML, { headers: { "content-type": "text/html" } });
    if (path === "/page.js") {
      return new Response(bundle, { headers: { "content-type": "text/javascript" } });
    }
    return new Response("not found", { status: 404 });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: `${origin}/`,
    origin,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A self-signed certificate for 127.0.0.1 that only the test's Chromium trusts. */
export interface ThrowawayCertificate {
  /** The certificate, PEM. */
  readonly cert: string;
  /** Its private key, PEM. */
  readonly key: string;
  /**
   * Chromium's flag that trusts this certificate's key and no other
   * (`--ignore-certificate-errors-spki-list`, base64 SHA-256 of the DER
   * SubjectPublicKeyInfo).
   */
  readonly trustFlag: string;
}

/** Makes a {@linkcode ThrowawayCertificate} with openssl, valid for a day. */
export async function throwawayCertificate(): Promise<ThrowawayCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "monocoque-browser-" });
  try {
    const openssl = async (...args: string[]) => {
      const out = await withTimeout(
        new Deno.Command("openssl", {
          args,
          cwd: dir,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        })
          .output(),
        30_000,
        "openssl",
      );
      if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
      return out.stdout;
    };
    await openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "cert.pem",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    );
    const spki = await openssl("pkey", "-in", "key.pem", "-pubout", "-outform", "der");
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
      trustFlag: `--ignore-certificate-errors-spki-list=${btoa(String.fromCharCode(...hash))}`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What the driver saw. */
export interface PageRun {
  /** The page's report, or the error it caught. */
  readonly outcome: { ok: PageReport } | { error: string; stack?: string };
  /** The page's console lines. */
  readonly console: string[];
  /** Uncaught errors on the page. */
  readonly errors: string[];
}

/**
 * Opens the page in headless Chromium with `config` in its URL fragment and
 * returns what it reported.
 *
 * @param url The page's address.
 * @param config The scenarios to run.
 * @param ms How long the browser may take in all (start, load, scenarios).
 * @param chromiumFlags More command-line flags for Chromium.
 */
export async function runPage(
  url: string,
  config: PageConfig,
  ms: number,
  chromiumFlags: readonly string[] = [],
): Promise<PageRun> {
  const page = `${url}#${encodeURIComponent(JSON.stringify(config))}`;
  const child = new Deno.Command("node", {
    args: [DRIVER, page, String(ms), ...chromiumFlags],
    env: { CHROMIUM },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let result: Deno.CommandOutput;
  try {
    // The driver bounds itself (ms + 10 s); this bound is for a driver that hangs anyway.
    result = await withTimeout(output, ms + 20_000, "the browser driver");
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await output.catch(() => {});
    throw e;
  }
  const stdout = new TextDecoder().decode(result.stdout);
  const stderr = new TextDecoder().decode(result.stderr);
  if (!result.success) {
    throw new Error(`browser driver exited with ${result.code}:\n${stderr}\n${stdout}`);
  }
  const run = JSON.parse(stdout) as { result: string | null; console: string[]; errors: string[] };
  const outcome = run.result === null
    ? { error: "the page reported nothing (uncaught error)" }
    : JSON.parse(run.result);
  return { outcome, console: run.console, errors: run.errors };
}
