/**
 * Monocoque in a real browser: Debian's Chromium, headless, loads a page
 * that bundles `mod.ts` with esbuild (`platform: "browser"`, no shims) and
 * runs REQ, SUB, DEALER and PUSH over `ws://` (and REQ over `wss://`)
 * against Deno servers, then over `ws://` against libzmq (zeromq.js 6.8.0 under Node); the test reads the page's
 * report and checks both ends. See `_harness.ts` for how the page is built,
 * served and driven.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, PullSocket, RepSocket, RouterSocket, type SocketOptions } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import type { PageReport } from "./_page.ts";
import {
  assertInstalled,
  type Bundle,
  bundle as build,
  type PageRun,
  runPage,
  servePage,
  throwawayCertificate,
} from "./_harness.ts";

/** The page's socket timeouts: Chromium starts slowly on a loaded 2-core machine. */
const PAGE_WAIT = 20_000;
/** The whole browser run: start, load and every scenario. */
const BROWSER_WAIT = 60_000;
const PUSH_COUNT = 3;

let bundled: Promise<Bundle> | undefined;
/** The page's bundle, built once for every test of this file. */
function pageBundle(): Promise<Bundle> {
  assertInstalled();
  return bundled ??= build();
}

const decoder = new TextDecoder();
const texts = (message: Uint8Array[]) => message.map((f) => decoder.decode(f));

/**
 * Runs a server's part in the background: its rejection (the test failed
 * early and closed the socket) is handled here, and seen again by whoever
 * awaits the result.
 */
function serve<T>(part: () => Promise<T>): Promise<T> {
  const result = part();
  result.catch(() => {});
  return result;
}

/** The page's report, or a failure that shows what the page said. */
function reportOf(run: PageRun): PageReport {
  const detail = `console:\n${run.console.join("\n")}\nerrors:\n${run.errors.join("\n")}`;
  if (!("ok" in run.outcome)) {
    assert.fail(`the page failed: ${run.outcome.error}\n${run.outcome.stack ?? ""}\n${detail}`);
  }
  assert.deepEqual(run.errors, [], `uncaught errors on the page\n${detail}`);
  return run.outcome.ok;
}

/** What every page run reports besides its scenarios: the browser's own transports. */
function assertBrowserBasics(report: PageReport): void {
  assert.deepEqual(report.runtime, {
    deno: "undefined",
    setImmediate: "undefined",
    webSocket: "function",
  });
  assert.deepEqual(report.inproc, ["inproc", "works"]);
  assert.deepEqual(report.unsupported, {
    "bind tcp://127.0.0.1:5555": "EPROTONOSUPPORT",
    "connect tcp://127.0.0.1:5555": "EPROTONOSUPPORT",
    "bind ipc:///tmp/monocoque-browser": "EPROTONOSUPPORT",
    "connect ipc:///tmp/monocoque-browser": "EPROTONOSUPPORT",
    "bind ws://127.0.0.1:0": "EPROTONOSUPPORT",
    "DISH bind udp://127.0.0.1:5556": "EPROTONOSUPPORT",
  });
}

for (const entry of ["mod.ts", "src/protocol/mod.ts"]) {
  Deno.test(`esbuild bundles ${entry} for the browser: no warnings, no node: imports`, async () => {
    assertInstalled();
    const { code, diagnostics } = await build(entry);
    assert.equal(diagnostics, "");
    // A bundle's own imports start their line; JSDoc examples kept in it start with " * ".
    assert.doesNotMatch(
      code,
      /^(?:import|export)\b[^\n]*["']node:|\b(?:import|require)\(\s*["']node:/m,
    );
    assert.match(code, entry === "mod.ts" ? /\bReqSocket\b/ : /\bSession\b/);
  });
}

Deno.test("a browser page runs REQ (ws:// and wss://), SUB, DEALER and PUSH against Deno servers", async () => {
  const { code } = await pageBundle();
  await using page = servePage(code);
  const origins: (string | null)[] = [];
  const options: SocketOptions = {
    linger: 0,
    receiveTimeout: BROWSER_WAIT,
    sendTimeout: PAGE_WAIT,
  };
  await using rep = new RepSocket({
    ...options,
    // The browser's WebSocket sends the page's origin: only that one is let in.
    wsCheckOrigin: (origin) => {
      origins.push(origin);
      return origin === page.origin;
    },
  });
  // wss: a certificate that this run's Chromium trusts by its key, and nothing else does.
  const tls = await throwawayCertificate();
  await using wss = new RepSocket({ ...options, wssCertPem: tls.cert, wssKeyPem: tls.key });
  await wss.bind("wss://127.0.0.1:0");
  await using pub = new PubSocket(options);
  await using router = new RouterSocket(options);
  await using pull = new PullSocket(options);
  for (const s of [rep, pub, router, pull]) await s.bind("ws://127.0.0.1:0");

  const request = serve(async () => {
    const got = await rep.receive();
    await rep.send(["hello back", ...got]);
    return texts(got);
  });
  const secured = serve(async () => {
    const got = await wss.receive();
    await wss.send(["hello back", ...got]);
    return texts(got);
  });
  const published = serve(async () => {
    await pub.waitForSubscribers(1, { timeout: BROWSER_WAIT });
    await pub.send(["news.today", "not subscribed"]);
    await pub.send(["weather.paris", "21C"]);
  });
  const pinged = serve(async () => {
    const [id, ...body] = await router.receive();
    await router.send([id, "pong", ...body.slice(1)]);
    return texts(body);
  });
  const pushed = serve(async () => {
    const got: string[][] = [];
    while (got.length < PUSH_COUNT) got.push(texts(await pull.receive()));
    return got;
  });

  const report = reportOf(
    await runPage(
      page.url,
      {
        rep: rep.lastEndpoint!,
        wss: wss.lastEndpoint!,
        pub: pub.lastEndpoint!,
        router: router.lastEndpoint!,
        pull: pull.lastEndpoint!,
        pushCount: PUSH_COUNT,
        timeout: PAGE_WAIT,
      },
      BROWSER_WAIT,
      [tls.trustFlag],
    ),
  );
  assert.deepEqual(report.req, ["hello back", "hello", "from the browser"]);
  assert.deepEqual(report.wss, ["hello back", "hello", "over TLS"]);
  assert.deepEqual(report.sub, ["weather.paris", "21C"]);
  assert.deepEqual(report.dealer, ["pong", "1"]);
  assert.equal(report.push, PUSH_COUNT);
  assertBrowserBasics(report);

  assert.deepEqual(await withTimeout(request, PAGE_WAIT, "REP"), ["hello", "from the browser"]);
  assert.deepEqual(await withTimeout(secured, PAGE_WAIT, "wss REP"), ["hello", "over TLS"]);
  await withTimeout(published, PAGE_WAIT, "PUB");
  assert.deepEqual(await withTimeout(pinged, PAGE_WAIT, "ROUTER"), ["ping", "1"]);
  assert.deepEqual(
    await withTimeout(pushed, PAGE_WAIT, "PULL"),
    Array.from({ length: PUSH_COUNT }, (_, i) => ["push", String(i)]),
  );
  assert.ok(origins.length > 0 && origins.every((o) => o === page.origin), String(origins));
});

Deno.test("a browser REQ, SUB, DEALER and PUSH talk to libzmq (zeromq.js under Node) over ws://", async () => {
  const { code } = await pageBundle();
  await using page = servePage(code);
  const start = (type: "REP" | "XPUB" | "ROUTER" | "PULL") =>
    Peer.start({ impl: "zeromqjs", type, bind: "ws://127.0.0.1:*" });
  await using rep = await start("REP");
  // XPUB: the subscription arrives as a message, so the publication waits for it, not a timer.
  await using xpub = await start("XPUB");
  await using router = await start("ROUTER");
  await using pull = await start("PULL");
  for (const peer of [rep, xpub, router, pull]) {
    assert.match(peer.endpoint, /^ws:\/\/127\.0\.0\.1:\d+/);
  }
  // libzmq's REP echoes the request back, its ROUTER the DEALER's message to its sender.
  const echoed = serve(() => rep.echo(1, BROWSER_WAIT));
  const published = serve(async () => {
    const subscription = await xpub.recv(BROWSER_WAIT);
    await xpub.send(["weather.paris", "21C"]);
    return subscription === undefined ? undefined : texts(subscription);
  });
  const pinged = serve(() => router.echo(1, BROWSER_WAIT));
  const pushed = serve(async () => {
    const got: (string[] | undefined)[] = [];
    while (got.length < PUSH_COUNT) {
      const message = await pull.recv(BROWSER_WAIT);
      got.push(message && texts(message));
    }
    return got;
  });

  const report = reportOf(
    await runPage(page.url, {
      rep: rep.endpoint,
      pub: xpub.endpoint,
      router: router.endpoint,
      pull: pull.endpoint,
      pushCount: PUSH_COUNT,
      timeout: PAGE_WAIT,
    }, BROWSER_WAIT),
  );
  assert.deepEqual(report.req, ["hello", "from the browser"]);
  assert.deepEqual(report.sub, ["weather.paris", "21C"]);
  assert.deepEqual(report.dealer, ["ping", "1"]);
  assert.equal(report.push, PUSH_COUNT);
  assertBrowserBasics(report);

  assert.equal(await withTimeout(echoed, PAGE_WAIT, "REP"), 1);
  assert.deepEqual(await withTimeout(published, PAGE_WAIT, "XPUB"), ["\x01weather."]);
  assert.equal(await withTimeout(pinged, PAGE_WAIT, "ROUTER"), 1);
  assert.deepEqual(
    await withTimeout(pushed, PAGE_WAIT, "PULL"),
    Array.from({ length: PUSH_COUNT }, (_, i) => ["push", String(i)]),
  );
});
