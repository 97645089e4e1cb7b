/**
 * The Monocoque demo (`deno task demo`): a tiny weather system, end to end
 * over TCP, printing what flows.
 *
 * 1. Feed (XPUB → SUB): a weather station publishes readings by topic
 *    `reading.<city>`; the query service takes every reading, a dashboard
 *    only Oslo's.
 * 2. Queries (ROUTER ← REQ, DEALER): the query service answers "what is the
 *    latest reading" from a REQ client (one request at a time) and a DEALER
 *    client (several requests in flight).
 * 3. Pipeline (PUSH → PULL → PUSH → PULL): one report job per city goes to
 *    two report workers; an archive collects the reports.
 * 4. Interop (REQ → REP): a real libzmq peer — pyzmq, in a Python process —
 *    asks a Monocoque REP forecast desk, if pyzmq is installed.
 *
 * Run: `deno task demo` or `deno run -A examples/demo.ts`
 *
 * @module
 */

import {
  DealerSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  SubSocket,
  XPubSocket,
} from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);
const started = performance.now();
const log = (line: string) =>
  console.log(`[${(performance.now() - started).toFixed(0).padStart(4)} ms] ${line}`);

const CITIES = ["paris", "oslo", "lima"];
const ROUNDS = 3;
type Reading = { city: string; round: number; tempC: number; humidity: number };
// Deterministic "sensor" values, so every run prints the same data.
const measure = (city: string, round: number): Reading => ({
  city,
  round,
  tempC: [18, 3, 24][CITIES.indexOf(city)] + round,
  humidity: [55, 80, 70][CITIES.indexOf(city)] - 2 * round,
});

// ---------------------------------------------------------------------------
console.log("== 1. Feed: the weather station publishes readings (XPUB -> SUB)");

await using station = new XPubSocket();
await station.bind("tcp://127.0.0.1:0");
log(`station publishing on ${station.lastEndpoint}`);

// The query service keeps the readings it receives, per city.
const history = new Map<string, Reading[]>();
await using serviceFeed = new SubSocket();
serviceFeed.subscribe("reading.");
serviceFeed.connect(station.lastEndpoint!);

await using dashboard = new SubSocket();
dashboard.subscribe("reading.oslo");
dashboard.connect(station.lastEndpoint!);

// Slow joiners: publish only once both subscriptions have reached the station.
for (let i = 0; i < 2; i++) {
  const [subscription] = await station.receive();
  log(`station: a subscriber wants "${text(subscription.subarray(1))}"`);
}

const total = CITIES.length * ROUNDS;
const serviceFed = (async () => {
  for (let n = 0; n < total; n++) {
    const [, body] = await serviceFeed.receive();
    const reading: Reading = JSON.parse(text(body));
    history.set(reading.city, [...history.get(reading.city) ?? [], reading]);
  }
})();
let dashboardCount = 0;
const dashboardDone = (async () => {
  for (let n = 0; n < ROUNDS; n++) {
    const [topic, body] = await dashboard.receive();
    const r: Reading = JSON.parse(text(body));
    log(`dashboard <- ${text(topic)}: ${r.tempC}°C, ${r.humidity}% humidity`);
    dashboardCount++;
  }
})();

for (let round = 1; round <= ROUNDS; round++) {
  for (const city of CITIES) {
    await station.send([`reading.${city}`, JSON.stringify(measure(city, round))]);
  }
}
log(`station: published ${total} readings`);
await Promise.all([serviceFed, dashboardDone]);
log(`query service: stored ${total} readings for ${history.size} cities`);

// ---------------------------------------------------------------------------
console.log("== 2. Queries: a ROUTER service answers REQ and DEALER clients");

await using service = new RouterSocket();
await service.bind("tcp://127.0.0.1:0");
log(`query service listening on ${service.lastEndpoint}`);

function answer(query: string): string {
  const [verb, city] = query.split(" ");
  const readings = history.get(city);
  if (verb !== "latest" || readings === undefined) return `unknown query "${query}"`;
  const r = readings[readings.length - 1];
  return `${city}: ${r.tempC}°C, ${r.humidity}% (round ${r.round})`;
}

// A ROUTER message is [routing id, ...frames]. A REQ client's frames start
// with an empty delimiter frame; a DEALER client may send none. Either way
// the service copies that envelope onto the reply, and the ROUTER routes the
// reply by its first frame back to the right client.
let queries = 0;
const serviceLoop = (async () => {
  for await (const message of service) {
    const query = text(message[message.length - 1]);
    const envelope = message.slice(0, -1);
    await service.send([...envelope, answer(query)]);
    queries++;
  }
})();

await using reqClient = new ReqSocket({ routingId: "kiosk", receiveTimeout: 3000 });
reqClient.connect(service.lastEndpoint!);
for (const city of ["paris", "lima"]) {
  await reqClient.send(`latest ${city}`);
  const [reply] = await reqClient.receive();
  log(`REQ client "kiosk" <- ${text(reply)}`);
}

// The DEALER client sends all its queries first, then collects the replies.
await using dealerClient = new DealerSocket({ routingId: "mobile-app", receiveTimeout: 3000 });
dealerClient.connect(service.lastEndpoint!);
const asked = ["latest oslo", "latest paris", "latest atlantis"];
for (const query of asked) await dealerClient.send(query);
log(`DEALER client "mobile-app" sent ${asked.length} queries without waiting`);
for (let i = 0; i < asked.length; i++) {
  const [reply] = await dealerClient.receive();
  log(`DEALER client "mobile-app" <- ${text(reply)}`);
}

// ---------------------------------------------------------------------------
console.log("== 3. Pipeline: report jobs to workers, reports to the archive (PUSH -> PULL)");

await using jobs = new PushSocket();
await jobs.bind("tcp://127.0.0.1:0");
await using archive = new PullSocket();
await archive.bind("tcp://127.0.0.1:0");
const jobEvents = jobs.events();

const reportWorkers: { input: PullSocket; output: PushSocket; loop: Promise<void> }[] = [];
for (const name of ["reporter-a", "reporter-b"]) {
  const input = new PullSocket();
  const output = new PushSocket();
  input.connect(jobs.lastEndpoint!);
  output.connect(archive.lastEndpoint!);
  const loop = (async () => {
    for await (const [city, body] of input) {
      const temps = (JSON.parse(text(body)) as Reading[]).map((r) => r.tempC);
      const mean = temps.reduce((a, b) => a + b, 0) / temps.length;
      const report = `${text(city)} min ${Math.min(...temps)}°C max ${Math.max(...temps)}°C mean ${
        mean.toFixed(1)
      }°C`;
      await output.send([name, report]);
    }
  })();
  reportWorkers.push({ input, output, loop });
}
// Hand out jobs only once both workers are connected, so both get some.
let joined = 0;
for await (const event of jobEvents) {
  if (event.type === "handshakeSucceeded" && ++joined === reportWorkers.length) break;
}
log(`${joined} report workers connected`);
for (const [city, readings] of history) await jobs.send([city, JSON.stringify(readings)]);
log(`pushed ${history.size} report jobs`);
const reports: string[] = [];
for (let i = 0; i < history.size; i++) {
  const [worker, report] = await archive.receive();
  log(`archive <- ${text(report)} (from ${text(worker)})`);
  reports.push(text(report));
}

// ---------------------------------------------------------------------------
console.log("== 4. Interop: a real libzmq REQ client (pyzmq) asks a Monocoque REP");

let interop = "skipped";
const python = "/usr/bin/python3";
const hasPyzmq = await (async () => {
  try {
    const probe = new Deno.Command(python, { args: ["-c", "import zmq"], stderr: "null" });
    return (await probe.output()).success;
  } catch {
    return false; // no such interpreter
  }
})();
if (!hasPyzmq) {
  log(`skipped: pyzmq is not installed (${python} -c "import zmq" failed)`);
} else {
  // A receive timeout: if the Python client fails, the demo reports it instead of hanging.
  await using desk = new RepSocket({ receiveTimeout: 4000 });
  await desk.bind("tcp://127.0.0.1:0");
  // Monitor events tell which kind of peer completed the ZMTP handshake.
  let peerType = "unknown";
  const watcher = (async () => {
    for await (const event of desk.events()) {
      if (event.type === "handshakeSucceeded") {
        peerType = event.peer.socketType;
        break;
      }
    }
  })();
  log(`forecast desk (Monocoque REP) listening on ${desk.lastEndpoint}`);

  const script = `
import sys, zmq
s = zmq.Context.instance().socket(zmq.REQ)
s.setsockopt(zmq.RCVTIMEO, 3000)
s.setsockopt(zmq.LINGER, 0)
s.connect(sys.argv[1])
s.send_multipart([b"forecast", b"oslo"])
print(b" ".join(s.recv_multipart()).decode())
print("pyzmq %s on libzmq %s" % (zmq.pyzmq_version(), zmq.zmq_version()))
`;
  const child = new Deno.Command(python, {
    args: ["-c", script, desk.lastEndpoint!],
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let request;
  try {
    request = await desk.receive();
  } catch (e) {
    try {
      child.kill();
    } catch {
      // it has already exited
    }
    const { stderr } = await child.output();
    throw new Error(`No request from the pyzmq client: ${new TextDecoder().decode(stderr)}`, {
      cause: e,
    });
  }
  await watcher;
  const [what, city] = request;
  log(`forecast desk <- ${text(what)} ${text(city)} (from a ${peerType} peer)`);
  const latest = history.get(text(city))!.at(-1)!;
  await desk.send([`${text(city)} tomorrow:`, `${latest.tempC + 1}°C`]);

  const output = await child.output();
  const [reply, version] = new TextDecoder().decode(output.stdout).trim().split("\n");
  if (!output.success) {
    throw new Error(`pyzmq client failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  log(`pyzmq REQ client printed: "${reply}"`);
  interop = `served a real libzmq peer (${version})`;
  log(interop);
}

// ---------------------------------------------------------------------------
// Shut down: closing a socket ends the loops reading from it.
for (const { input, output, loop } of reportWorkers) {
  await input.close();
  await loop;
  await output.close();
}
await service.close();
await serviceLoop;

const summary: [string, string][] = [
  ["readings published", `${total} (${CITIES.length} cities x ${ROUNDS} rounds)`],
  ["readings on the dashboard", `${dashboardCount} (subscribed to Oslo only)`],
  ["queries answered", `${queries} (2 from REQ, ${asked.length} from DEALER)`],
  ["reports archived", `${reports.length}`],
  ["libzmq interop", interop],
];
console.log("== Summary");
for (const [what, value] of summary) console.log(`  ${what.padEnd(26)} ${value}`);
console.log(`Demo finished in ${(performance.now() - started).toFixed(0)} ms`);
