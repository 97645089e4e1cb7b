/**
 * A REP bound at a `quic://` endpoint (argument 1) with the certificate in
 * the directory `QUIC_TEST_CERTS`: prints its endpoint, answers one request
 * with its argument 2, closes and exits. `_quic_cases.ts` starts it twice on
 * the same port to restart the binder: a QUIC port is released only when
 * its process lets go of the endpoint (see README, quic://).
 *
 * @module
 */

import { RepSocket } from "../../mod.ts";

const dir = Deno.env.get("QUIC_TEST_CERTS")!;
const [endpoint, answer] = Deno.args;
const rep = new RepSocket({
  wssCertPem: Deno.readTextFileSync(`${dir}/cert.pem`),
  wssKeyPem: Deno.readTextFileSync(`${dir}/key.pem`),
  receiveTimeout: 60_000,
});
await rep.bind(endpoint);
console.log(rep.lastEndpoint);
const [request] = await rep.receive();
await rep.send([request, answer]);
await rep.close();
