/**
 * Typed RPC over ZeroMQ: services with unary and server-streaming methods,
 * served by {@linkcode RpcServer} on a ROUTER socket and called through
 * {@linkcode RpcClient} on a DEALER socket, every call multiplexed on one
 * connection. Deadlines and cancellation (AbortSignal) travel to the server,
 * errors carry gRPC's status codes, payloads are MessagePack by default
 * behind a {@linkcode Codec} seam, and the envelope is plain ZeroMQ frames
 * (rpc/SPEC.md) that any ZeroMQ peer can speak.
 *
 * @example A service, a server and a client
 * ```ts
 * import { defineService, RpcClient, RpcServer, unary } from "@monocoque/zmtp/rpc";
 *
 * const Calculator = defineService("calc", {
 *   add: unary<{ a: number; b: number }, number>(),
 * });
 *
 * await using server = new RpcServer();
 * server.add(Calculator, { add: ({ a, b }) => a + b });
 * await server.bind("inproc://rpc-mod-doc");
 *
 * await using client = new RpcClient("inproc://rpc-mod-doc");
 * const calc = client.stub(Calculator);
 * console.assert(await calc.add({ a: 2, b: 3 }) === 5);
 * ```
 *
 * @module
 */

export { type Codec, msgpackCodec, type MsgpackCodecOptions, rawCodec } from "./codec.ts";
export { RpcError, STATUS_CODES, type StatusCode, statusName } from "./status.ts";
export {
  type AnyMethod,
  type CallContext,
  type CallOptions,
  defineService,
  type Handler,
  type Handlers,
  type MethodCodecs,
  serverStream,
  type ServerStreamMethod,
  type ServiceDefinition,
  type ServiceStub,
  type StubMethod,
  unary,
  type UnaryMethod,
} from "./service.ts";
export { RpcServer, type RpcServerEvent, type RpcServerOptions } from "./server.ts";
export { RpcClient, type RpcClientOptions } from "./client.ts";
// The socket options the server and client pass through, and the types they mention.
export type {
  Connection,
  Endpoint,
  EndpointBase,
  InprocEndpoint,
  IpcEndpoint,
  Listener,
  SocketOptions,
  TcpEndpoint,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
} from "../mod.ts";
