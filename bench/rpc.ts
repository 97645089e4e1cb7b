/**
 * RPC benchmark, side by side in one run: Monocoque's RPC layer (raw-bytes
 * and MessagePack payloads), a bare DEALER/ROUTER round trip (the floor the
 * RPC layer sits on), and gRPC (`npm:@grpc/grpc-js`, identity serializers,
 * the same runtime). Each server runs in its own process; the client here
 * measures unary latency (p50/p99, 16 B and 4 KiB, one call at a time),
 * calls per second with 16 and 100 calls in flight, and CPU time per call
 * (client plus server process). Then the codec comparison behind the default
 * codec (bench/_rpc_codecs.ts). The machine has 2 cores that client and
 * server share: read the ratios, not the absolute figures.
 *
 * Usage: `deno task bench:rpc [--quick]`
 *
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import { DealerSocket, RouterSocket } from "../mod.ts";
import { defineService, rawCodec, RpcClient, RpcServer, unary } from "../rpc/mod.ts";
import { measureCodecs } from "./_rpc_codecs.ts";

const Bench = defineService("bench", {
  echo: unary<Uint8Array, Uint8Array>({ request: rawCodec, response: rawCodec }),
  echoMsgpack: unary<{ data: Uint8Array }, { data: Uint8Array }>(),
});

const identity = (b: Buffer) => b;
const GRPC_SERVICE = {
  echo: {
    path: "/bench.Bench/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} as unknown as grpc.ServiceDefinition;

type Kind = "monocoque" | "monocoque-msgpack" | "raw" | "grpc";

// ---- servers (child processes) --------------------------------------------

async function serve(kind: Kind): Promise<void> {
  let endpoint: string;
  let stop: () => Promise<void>;
  if (kind === "grpc") {
    const server = new grpc.Server();
    server.addService(GRPC_SERVICE, {
      echo: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => cb(null, call.request),
    } as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        "127.0.0.1:0",
        grpc.ServerCredentials.createInsecure(),
        (e, p) => e ? reject(e) : resolve(p),
      )
    );
    endpoint = `127.0.0.1:${port}`;
    stop = () => Promise.resolve(server.forceShutdown());
  } else if (kind === "raw") {
    const router = new RouterSocket({ linger: 0 });
    await router.bind("tcp://127.0.0.1:0");
    endpoint = router.lastEndpoint!;
    const loop = (async () => {
      try {
        for await (const message of router) await router.send(message);
      } catch { /* closed */ }
    })();
    stop = async () => {
      await router.close();
      await loop;
    };
  } else {
    const server = new RpcServer({ maxConcurrentCallsPerPeer: 1000 });
    server.add(Bench, { echo: (b) => b, echoMsgpack: (v) => v });
    await server.bind("tcp://127.0.0.1:0");
    endpoint = server.lastEndpoint!;
    stop = () => server.close();
  }
  console.log(`READY ${endpoint}`);
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buffered = "";
  for await (const chunk of lines) {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === "cpu") console.log(JSON.stringify(process.cpuUsage()));
      if (line === "exit") {
        await stop();
        Deno.exit(0);
      }
    }
  }
}

// ---- client side ------------------------------------------------------------

interface ServerProcess {
  endpoint: string;
  cpu(): Promise<number>;
  close(): Promise<void>;
}

async function startServer(kind: Kind): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--serve", kind],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  async function line(): Promise<string> {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${kind} server exited`);
      buffered += value;
    }
    const nl = buffered.indexOf("\n");
    const l = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    return l;
  }
  const ready = await line();
  const endpoint = ready.replace(/^READY /, "");
  const enc = new TextEncoder();
  return {
    endpoint,
    async cpu() {
      await writer.write(enc.encode("cpu\n"));
      const u = JSON.parse(await line());
      return u.user + u.system;
    },
    async close() {
      await writer.write(enc.encode("exit\n"));
      await writer.close();
      reader.releaseLock();
      await child.status;
    },
  };
}

interface Caller {
  call(payload: Uint8Array): Promise<unknown>;
  close(): Promise<void>;
}

function monocoqueCaller(endpoint: string, msgpack: boolean): Caller {
  const client = new RpcClient(endpoint);
  const bench = client.stub(Bench);
  return {
    call: msgpack ? (p) => bench.echoMsgpack({ data: p }) : (p) => bench.echo(p),
    close: () => client.close(),
  };
}

function rawCaller(endpoint: string): Caller {
  const dealer = new DealerSocket({ linger: 0 });
  dealer.connect(endpoint);
  const waiting = new Map<number, (frames: Uint8Array[]) => void>();
  let next = 0;
  const loop = (async () => {
    try {
      for await (const [id, ...rest] of dealer) {
        const key = new DataView(id.buffer, id.byteOffset, 4).getUint32(0);
        waiting.get(key)?.(rest);
        waiting.delete(key);
      }
    } catch { /* closed */ }
  })();
  return {
    call(payload) {
      const id = new Uint8Array(4);
      const key = next++ >>> 0;
      new DataView(id.buffer).setUint32(0, key);
      return new Promise((resolve) => {
        waiting.set(key, resolve);
        dealer.send([id, payload]);
      });
    },
    async close() {
      await dealer.close();
      await loop;
    },
  };
}

function grpcCaller(endpoint: string): Caller {
  const Client = grpc.makeGenericClientConstructor(GRPC_SERVICE, "Bench");
  const client = new Client(endpoint, grpc.credentials.createInsecure()) as unknown as {
    echo(b: Buffer, cb: (e: Error | null, r: Buffer) => void): void;
    close(): void;
  };
  return {
    call: (payload) =>
      new Promise((resolve, reject) =>
        client.echo(
          Buffer.from(payload.buffer, payload.byteOffset, payload.length),
          (e, r) => e ? reject(e) : resolve(r),
        )
      ),
    close: () => Promise.resolve(client.close()),
  };
}

function caller(kind: Kind, endpoint: string): Caller {
  switch (kind) {
    case "monocoque":
      return monocoqueCaller(endpoint, false);
    case "monocoque-msgpack":
      return monocoqueCaller(endpoint, true);
    case "raw":
      return rawCaller(endpoint);
    case "grpc":
      return grpcCaller(endpoint);
  }
}

async function latency(c: Caller, size: number, n: number): Promise<{ p50: number; p99: number }> {
  const payload = new Uint8Array(size).fill(7);
  for (let i = 0; i < Math.min(500, n); i++) await c.call(payload);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.call(payload);
    times[i] = performance.now() - t;
  }
  times.sort();
  return { p50: times[Math.floor(n * 0.5)] * 1000, p99: times[Math.floor(n * 0.99)] * 1000 };
}

async function throughput(
  c: Caller,
  server: ServerProcess,
  concurrency: number,
  ms: number,
): Promise<{ perSecond: number; cpuPerCall: number }> {
  const payload = new Uint8Array(16).fill(7);
  const deadline = performance.now() + ms;
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const server0 = await server.cpu();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await c.call(payload);
        calls++;
      }
    }),
  );
  const elapsed = performance.now() - start;
  const cpu1 = process.cpuUsage(cpu0);
  const server1 = await server.cpu();
  const cpu = cpu1.user + cpu1.system + (server1 - server0);
  return { perSecond: calls / (elapsed / 1000), cpuPerCall: cpu / calls };
}

interface Row {
  kind: string;
  p50_16: number;
  p99_16: number;
  p50_4k: number;
  p99_4k: number;
  rps16: number;
  rps100: number;
  cpu100: number;
}

async function measure(kind: Kind, quick: boolean): Promise<Row> {
  const server = await startServer(kind);
  const c = caller(kind, server.endpoint);
  try {
    const n = quick ? 1000 : 5000;
    const ms = quick ? 1000 : 3000;
    const small = await latency(c, 16, n);
    const big = await latency(c, 4096, n);
    const t16 = await throughput(c, server, 16, ms);
    const t100 = await throughput(c, server, 100, ms);
    return {
      kind,
      p50_16: small.p50,
      p99_16: small.p99,
      p50_4k: big.p50,
      p99_4k: big.p99,
      rps16: t16.perSecond,
      rps100: t100.perSecond,
      cpu100: t100.cpuPerCall,
    };
  } finally {
    await c.close();
    await server.close();
  }
}

/**
 * grpc-js under Node, as Node users run it: installed on first use under
 * bench/build/grpc (git-ignored), measured by bench/_rpc_grpc_node.mjs.
 */
async function measureGrpcNode(quick: boolean): Promise<Row> {
  const dir = new URL("./build/grpc/", import.meta.url).pathname;
  try {
    await Deno.stat(dir + "node_modules/@grpc/grpc-js/package.json");
  } catch {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(dir + "package.json", '{ "private": true }\n');
    const install = await new Deno.Command("npm", {
      args: ["install", "--no-audit", "--no-fund", "--silent", "@grpc/grpc-js@1.14.7"],
      cwd: dir,
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!install.success) throw new Error("npm install @grpc/grpc-js@1.14.7 failed");
  }
  const script = new URL("./_rpc_grpc_node.mjs", import.meta.url).pathname;
  const run = await new Deno.Command("node", {
    args: [script, dir, ...(quick ? ["--quick"] : [])],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!run.success) throw new Error("the Node grpc-js run failed");
  return { kind: "grpc-js (Node)", ...JSON.parse(new TextDecoder().decode(run.stdout)) };
}

const fmt = (v: number, digits = 0) =>
  v.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const quick = Deno.args.includes("--quick");
  const kinds: Kind[] = ["monocoque", "monocoque-msgpack", "raw", "grpc"];
  const label: Record<string, string> = {
    "monocoque": "Monocoque RPC (raw bytes)",
    "monocoque-msgpack": "Monocoque RPC (MessagePack)",
    "raw": "DEALER/ROUTER round trip, no RPC",
    "grpc": "grpc-js (Deno)",
  };
  const rows: Row[] = [];
  const runs: [string, () => Promise<Row>][] = [
    ...kinds.map((kind): [string, () => Promise<Row>] => [kind, () => measure(kind, quick)]),
    ["grpc-js (Node)", () => measureGrpcNode(quick)],
  ];
  for (const [name, run] of runs) {
    try {
      rows.push(await run());
    } catch (error) {
      console.log(`${name}: did not run (${error instanceof Error ? error.message : error})`);
    }
  }
  console.log(
    "\nUnary RPC over tcp on 127.0.0.1, server in its own process (µs; calls/s; CPU µs per call, client + server)\n",
  );
  console.log(
    "| implementation | p50 16 B | p99 16 B | p50 4 KiB | p99 4 KiB | calls/s, 16 in flight | calls/s, 100 in flight | CPU/call at 100 |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${label[r.kind] ?? r.kind} | ${fmt(r.p50_16)} | ${fmt(r.p99_16)} | ${fmt(r.p50_4k)} | ${
        fmt(r.p99_4k)
      } | ${fmt(r.rps16)} | ${fmt(r.rps100)} | ${fmt(r.cpu100, 1)} |`,
    );
  }
  const ours = rows.find((r) => r.kind === "monocoque");
  for (const grpcRow of rows.filter((r) => r.kind.startsWith("grpc"))) {
    if (ours === undefined) break;
    console.log(
      `\nMonocoque RPC vs ${label[grpcRow.kind] ?? grpcRow.kind}: p50 16 B ${
        fmt(ours.p50_16 / grpcRow.p50_16, 2)
      }×, ` +
        `p50 4 KiB ${fmt(ours.p50_4k / grpcRow.p50_4k, 2)}×, ` +
        `calls/s at 100 ${fmt(ours.rps100 / grpcRow.rps100, 2)}×, ` +
        `CPU per call ${fmt(ours.cpu100 / grpcRow.cpu100, 2)}×`,
    );
  }
  console.log("\nCodecs: encode + decode round trips of one value (higher is better)\n");
  console.log("| payload | codec | bytes | round trips/s |");
  console.log("| --- | --- | ---: | ---: |");
  for (const r of measureCodecs()) {
    console.log(`| ${r.payload} | ${r.codec} | ${r.bytes} | ${fmt(r.perSecond)} |`);
  }
}

const serveAt = Deno.args.indexOf("--serve");
if (serveAt >= 0) await serve(Deno.args[serveAt + 1] as Kind);
else await main();
