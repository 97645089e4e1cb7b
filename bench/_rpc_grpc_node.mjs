// grpc-js as Node users run it, for bench/rpc.ts: `node _rpc_grpc_node.mjs MODULES_DIR [--quick]`
// starts a grpc-js echo server in a child Node process (identity serializers,
// as bench/rpc.ts uses under Deno), measures the same figures as bench/rpc.ts
// (p50/p99 16 B and 4 KiB, calls/s with 16 and 100 in flight, CPU per call
// of client plus server) and prints them as one JSON line. MODULES_DIR holds
// node_modules/@grpc/grpc-js (bench/rpc.ts installs it under bench/build/).

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const [modules, flag] = process.argv.slice(2);
const grpc = createRequire(modules + "/package.json")("@grpc/grpc-js");
const identity = (b) => b;
const SERVICE = {
  echo: {
    path: "/bench.Bench/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

if (flag === "--serve") {
  const server = new grpc.Server();
  server.addService(SERVICE, { echo: (call, cb) => cb(null, call.request) });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => {
    if (e) throw e;
    console.log(`READY 127.0.0.1:${port}`);
  });
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line === "cpu") {
      const u = process.cpuUsage();
      console.log(JSON.stringify(u.user + u.system));
    }
    if (line === "exit") {
      server.forceShutdown();
      process.exit(0);
    }
  });
} else {
  const quick = flag === "--quick";
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, modules, "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const line = async () => (await lines.next()).value;
  const endpoint = (await line()).replace(/^READY /, "");
  const serverCpu = async () => {
    child.stdin.write("cpu\n");
    return JSON.parse(await line());
  };
  const Client = grpc.makeGenericClientConstructor(SERVICE, "Bench");
  const client = new Client(endpoint, grpc.credentials.createInsecure());
  const call = (payload) =>
    new Promise((resolve, reject) => client.echo(payload, (e, r) => e ? reject(e) : resolve(r)));

  const latency = async (size, n) => {
    const payload = Buffer.alloc(size, 7);
    for (let i = 0; i < Math.min(500, n); i++) await call(payload);
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await call(payload);
      times[i] = performance.now() - t;
    }
    times.sort();
    return { p50: times[Math.floor(n * 0.5)] * 1000, p99: times[Math.floor(n * 0.99)] * 1000 };
  };

  const throughput = async (concurrency, ms) => {
    const payload = Buffer.alloc(16, 7);
    const deadline = performance.now() + ms;
    let calls = 0;
    const cpu0 = process.cpuUsage();
    const server0 = await serverCpu();
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await call(payload);
        calls++;
      }
    }));
    const elapsed = performance.now() - start;
    const cpu1 = process.cpuUsage(cpu0);
    const server1 = await serverCpu();
    return {
      perSecond: calls / (elapsed / 1000),
      cpuPerCall: (cpu1.user + cpu1.system + server1 - server0) / calls,
    };
  };

  const n = quick ? 1000 : 5000;
  const ms = quick ? 1000 : 3000;
  const small = await latency(16, n);
  const big = await latency(4096, n);
  const t16 = await throughput(16, ms);
  const t100 = await throughput(100, ms);
  console.log(JSON.stringify({
    p50_16: small.p50,
    p99_16: small.p99,
    p50_4k: big.p50,
    p99_4k: big.p99,
    rps16: t16.perSecond,
    rps100: t100.perSecond,
    cpu100: t100.cpuPerCall,
  }));
  client.close();
  child.stdin.write("exit\n");
}
