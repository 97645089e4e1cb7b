/**
 * The script of the browser test's page, bundled by esbuild for the browser
 * and loaded by headless Chromium: it reads its endpoints from the page's
 * URL fragment (JSON), runs each scenario whose endpoint it was given
 * against the test's servers over `ws://`, and writes a JSON report into
 * `<pre id="result">`, then sets `data-done` on `<body>` for the driver to
 * wait on. Every receive has a timeout, so the page always finishes.
 *
 * @module
 */

import {
  DealerSocket,
  DishSocket,
  PullSocket,
  PushSocket,
  ReqSocket,
  type Socket,
  SubSocket,
  ZmqError,
} from "../../mod.ts";

/** What the test asks the page to do: one endpoint per scenario to run. */
export interface PageConfig {
  /** A REP server: send one request, read its reply. */
  rep?: string;
  /** A REP server over wss: send one request, read its reply. */
  wss?: string;
  /** A PUB server: subscribe to `weather.` and read the first message. */
  pub?: string;
  /** A ROUTER server: send one message from a DEALER, read the answer. */
  router?: string;
  /** A PULL server: send `pushCount` messages from a PUSH. */
  pull?: string;
  /** How many messages to PUSH. */
  pushCount?: number;
  /** Receive and send timeout of every socket, ms. */
  timeout: number;
}

/** What the page reports; each scenario's field is absent when it was not run. */
export interface PageReport {
  /** Frames of the REP server's reply, as text. */
  req?: string[];
  /** Frames of the wss REP server's reply, as text. */
  wss?: string[];
  /** Frames of the first message the SUB got, as text. */
  sub?: string[];
  /** Frames of the ROUTER server's answer, as text. */
  dealer?: string[];
  /** How many messages the PUSH sent. */
  push?: number;
  /** An inproc PUSH→PULL round trip inside the page, as text. */
  inproc: string[];
  /** The error code of bind/connect on schemes a browser has no transport for. */
  unsupported: Record<string, string>;
  /** What this runtime has, for the record. */
  runtime: { deno: string; setImmediate: string; webSocket: string };
}

/** The little of the DOM the page uses, typed here: `deno check` runs without the DOM library. */
interface PageGlobals {
  readonly document: {
    getElementById(id: string): { textContent: string | null } | null;
    readonly body: { readonly dataset: Record<string, string | undefined> };
  };
  readonly location: { readonly hash: string };
}

const decoder = new TextDecoder();
const texts = (message: Uint8Array[]) => message.map((f) => decoder.decode(f));

/** Runs `body` with a socket and closes the socket afterwards, whatever happens. */
async function use<S extends Socket, T>(socket: S, body: (s: S) => Promise<T>): Promise<T> {
  try {
    return await body(socket);
  } finally {
    await socket.close();
  }
}

/** The code of the error `attempt` throws or rejects with, or `"none"`. */
async function codeOf(attempt: () => unknown): Promise<string> {
  try {
    await attempt();
    return "none";
  } catch (e) {
    return e instanceof ZmqError ? e.code : `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** Connects `socket` to `endpoint` and waits until their handshake is done. */
async function handshake(socket: Socket, endpoint: string, ms: number): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    const events = socket.events({ signal: abort.signal });
    socket.connect(endpoint);
    for await (const event of events) if (event.type === "handshakeSucceeded") return;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`No handshake with ${endpoint} in ${ms} ms`);
}

/** Runs the scenarios of `config` one after another. */
export async function run(config: PageConfig): Promise<PageReport> {
  const options = { receiveTimeout: config.timeout, sendTimeout: config.timeout, linger: 0 };
  const report: PageReport = {
    inproc: [],
    unsupported: {},
    runtime: {
      deno: typeof (globalThis as { Deno?: unknown }).Deno,
      setImmediate: typeof (globalThis as { setImmediate?: unknown }).setImmediate,
      webSocket: typeof WebSocket,
    },
  };
  if (config.rep !== undefined) {
    report.req = await use(new ReqSocket(options), async (req) => {
      req.connect(config.rep!);
      await req.send(["hello", "from the browser"]);
      return texts(await req.receive());
    });
  }
  if (config.wss !== undefined) {
    report.wss = await use(new ReqSocket(options), async (req) => {
      req.connect(config.wss!);
      await req.send(["hello", "over TLS"]);
      return texts(await req.receive());
    });
  }
  if (config.pub !== undefined) {
    report.sub = await use(new SubSocket(options), async (sub) => {
      sub.subscribe("weather.");
      sub.connect(config.pub!);
      return texts(await sub.receive());
    });
  }
  if (config.router !== undefined) {
    report.dealer = await use(new DealerSocket(options), async (dealer) => {
      dealer.connect(config.router!);
      await dealer.send(["ping", "1"]);
      return texts(await dealer.receive());
    });
  }
  if (config.pull !== undefined) {
    // Linger: close() waits until the messages are out rather than dropping them; it waits
    // for connected peers only, hence the handshake first.
    report.push = await use(
      new PushSocket({ ...options, linger: config.timeout }),
      async (push) => {
        await handshake(push, config.pull!, config.timeout);
        const count = config.pushCount ?? 1;
        for (let i = 0; i < count; i++) await push.send(["push", String(i)]);
        return count;
      },
    );
  }
  report.inproc = await use(
    new PullSocket(options),
    (pull) =>
      use(new PushSocket(options), async (push) => {
        await pull.bind("inproc://browser-page");
        push.connect("inproc://browser-page");
        await push.send(["inproc", "works"]);
        return texts(await pull.receive());
      }),
  );
  await use(new PushSocket(options), async (push) => {
    for (const endpoint of ["tcp://127.0.0.1:5555", "ipc:///tmp/monocoque-browser"]) {
      report.unsupported[`bind ${endpoint}`] = await codeOf(() => push.bind(endpoint));
      report.unsupported[`connect ${endpoint}`] = await codeOf(() => push.connect(endpoint));
    }
    // A page has a WebSocket client, not a server.
    report.unsupported["bind ws://127.0.0.1:0"] = await codeOf(() => push.bind("ws://127.0.0.1:0"));
  });
  // Nor datagrams: udp:// (RADIO and DISH) is Deno's.
  await use(new DishSocket(options), async (dish) => {
    report.unsupported["DISH bind udp://127.0.0.1:5556"] = await codeOf(() =>
      dish.bind("udp://127.0.0.1:5556")
    );
  });
  return report;
}

/** Reads the config from the URL fragment and reports into the page. */
async function main(): Promise<void> {
  const { document, location } = globalThis as unknown as PageGlobals;
  const out = document.getElementById("result")!;
  try {
    const config = JSON.parse(decodeURIComponent(location.hash.slice(1))) as PageConfig;
    out.textContent = JSON.stringify({ ok: await run(config) });
  } catch (e) {
    const error = e instanceof ZmqError ? `${e.code}: ${e.message}` : String(e);
    out.textContent = JSON.stringify({ error, stack: (e as Error)?.stack });
  }
  document.body.dataset.done = "true";
}

main();
