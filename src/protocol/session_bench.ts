// Micro-benchmarks of the data path: encoding and decoding single-frame messages.
import { Session } from "./session.ts";

const BATCH = 1000;

function readyPair(): [Session, Session] {
  const a = new Session({ socketType: "PAIR", now: 0 });
  const b = new Session({ socketType: "PAIR", now: 0 });
  for (let i = 0; i < 3; i++) {
    for (const chunk of a.takeOutput()) b.receive(chunk, 0);
    for (const chunk of b.takeOutput()) a.receive(chunk, 0);
  }
  a.takeEvents();
  b.takeEvents();
  return [a, b];
}

for (const size of [16, 256, 4096]) {
  const body = new Uint8Array(size).fill(7);
  const message = [body];
  const [sender, receiver] = readyPair();

  Deno.bench(`encode ${BATCH} x ${size} B messages`, { group: `${size} B` }, () => {
    for (let i = 0; i < BATCH; i++) sender.send(message);
    sender.takeOutput();
  });

  // The wire bytes of BATCH messages, fed in 64 KiB reads as a transport would.
  for (let i = 0; i < BATCH; i++) sender.send(message);
  const wire = sender.takeOutput();
  const stream = new Uint8Array(wire.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of wire) {
    stream.set(chunk, at);
    at += chunk.length;
  }
  const reads: Uint8Array[] = [];
  for (let p = 0; p < stream.length; p += 65536) reads.push(stream.subarray(p, p + 65536));

  Deno.bench(`decode ${BATCH} x ${size} B messages`, { group: `${size} B` }, () => {
    for (const read of reads) receiver.receive(read, 0);
    if (receiver.takeEvents().length !== BATCH) throw new Error("Lost messages");
  });
}
