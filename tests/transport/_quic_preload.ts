/**
 * Preloaded (`deno test --preload`) when quic_test.ts runs the socket suite
 * over quic://: the generic socket tests bind without a certificate, so this
 * replaces the quic row of the transport registry with one whose binds serve
 * the throwaway certificate in `QUIC_TEST_CERTS` unless the socket has its
 * own, and whose clients trust its CA.
 *
 * @module
 */

import { registerTransport } from "../../src/transport/registry.ts";
import {
  formatQuic,
  parseQuic,
  type QuicEndpoint,
  QuicTransport,
} from "../../src/transport/quic.ts";
import type { Transport } from "../../src/transport/types.ts";

const dir = Deno.env.get("QUIC_TEST_CERTS")!;
const tls = {
  cert: Deno.readTextFileSync(`${dir}/cert.pem`),
  key: Deno.readTextFileSync(`${dir}/key.pem`),
};
const quic = new QuicTransport({ caCerts: [Deno.readTextFileSync(`${dir}/ca.pem`)] });
const withCertificate: Transport<QuicEndpoint> = {
  listen: (endpoint, options) => quic.listen(endpoint, { ...options, tls: options?.tls ?? tls }),
  connect: (endpoint, options) => quic.connect(endpoint, options),
};
registerTransport<QuicEndpoint>("quic", {
  parse: parseQuic,
  format: formatQuic,
  transport: () => withCertificate,
});

/**
 * Socket tests that bind a port again in the same process right after closing it. Deno 2.9
 * releases a QUIC endpoint's UDP port only once the endpoint object is garbage-collected, so
 * they fail with EADDRINUSE over quic:// (see README, quic://); they are reported as ignored.
 * A restarted *process* rebinds at once: _quic_cases.ts restarts its binder that way.
 */
const REBINDS_IN_PROCESS = [
  "Socket.close() releases the endpoint for a new bind (quic)",
  "Socket.unbind() stops listening and drops the accepted connections (quic)",
  "DishSocket sends its joins again to a RADIO that restarts (quic)",
];
const test = Deno.test;
(Deno as { test: typeof Deno.test }).test = ((...args: Parameters<typeof Deno.test>) => {
  const [name, fn] = args as unknown[];
  if (typeof name === "string" && typeof fn === "function" && REBINDS_IN_PROCESS.includes(name)) {
    return test({ name, fn: fn as () => void, ignore: true });
  }
  return (test as (...a: unknown[]) => void)(...args);
}) as typeof Deno.test;
