/**
 * Monocoque: ZeroMQ for Deno, in TypeScript. It speaks the ZeroMQ wire
 * protocol (ZMTP 3.1, with 3.0 peers understood) itself, so a Deno program
 * talks to libzmq, pyzmq, JeroMQ, NetMQ and zeromq.js peers with no native
 * addon. Sockets send and receive messages (`Uint8Array[]`, one entry per
 * frame) with `send()`/`receive()`, async iteration, and WHATWG streams.
 *
 * @example Request and reply over TCP
 * ```ts
 * import { RepSocket, ReqSocket } from "@monocoque/zmtp";
 *
 * await using rep = new RepSocket();
 * await rep.bind("tcp://127.0.0.1:0");
 * await using req = new ReqSocket();
 * req.connect(rep.lastEndpoint!);
 *
 * await req.send("hello");
 * const [request] = await rep.receive();
 * await rep.send(["world: ", request]);
 * const [prefix, echoed] = await req.receive();
 * console.assert(new TextDecoder().decode(prefix) === "world: ");
 * console.assert(new TextDecoder().decode(echoed) === "hello");
 * ```
 *
 * @module
 */

export { ZmqError } from "./src/errors.ts";
export { text } from "./src/text.ts";
export type { ZmqErrorCode, ZmqErrorOptions } from "./src/errors.ts";
export type { SocketType } from "./src/protocol/socket_type.ts";
export { type CurveKeyPair, curveKeyPair, curvePublicKey } from "./src/protocol/curve_keys.ts";
export { z85Decode, z85Encode } from "./src/protocol/z85.ts";
export { Socket } from "./src/socket/socket.ts";
export type { EventsOptions, FrameLike, Message, MessageLike } from "./src/socket/socket.ts";
export { PeerMetadata, type PeerMetadataInit } from "./src/socket/peer_metadata.ts";
export type {
  HandshakeFailure,
  RoutingIdConflict,
  SocketEvent,
  SocketEventType,
} from "./src/socket/events.ts";
export type {
  ConnectOptions,
  OperationOptions,
  PubSocketOptions,
  ReqSocketOptions,
  RouterSocketOptions,
  SocketOptions,
  WaitForSubscribersOptions,
  XPubSocketOptions,
} from "./src/socket/options.ts";
export type {
  Connection,
  Endpoint,
  EndpointBase,
  EndpointUse,
  InprocEndpoint,
  IpcEndpoint,
  Listener,
  TcpEndpoint,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
  TransportScheme,
} from "./src/transport/types.ts";
export {
  type WsEndpoint,
  type WsListener,
  WsTransport,
  type WsTransportOptions,
} from "./src/transport/ws.ts";
export { merge, type MergedMessage, type MergeOptions } from "./src/socket/merge.ts";
export { ReqSocket } from "./src/socket/req.ts";
export { RepSocket } from "./src/socket/rep.ts";
export { DealerSocket } from "./src/socket/dealer.ts";
export { RouterSocket } from "./src/socket/router.ts";
export { PubSocket } from "./src/socket/pub.ts";
export { SubSocket } from "./src/socket/sub.ts";
export { XPubSocket } from "./src/socket/xpub.ts";
export { XSubSocket } from "./src/socket/xsub.ts";
export { PushSocket } from "./src/socket/push.ts";
export { PullSocket } from "./src/socket/pull.ts";
export { PairSocket } from "./src/socket/pair.ts";
export { ClientSocket } from "./src/socket/client.ts";
export { type ServerMessage, type ServerSendOptions, ServerSocket } from "./src/socket/server.ts";
export { ScatterSocket } from "./src/socket/scatter.ts";
export { GatherSocket } from "./src/socket/gather.ts";
export { type RadioSendOptions, RadioSocket } from "./src/socket/radio.ts";
export { type DishMessage, DishSocket } from "./src/socket/dish.ts";
export { type PeerMessage, type PeerSendOptions, PeerSocket } from "./src/socket/peer.ts";
export { ChannelSocket } from "./src/socket/channel.ts";
export { StreamSocket, type StreamSocketOptions } from "./src/socket/stream.ts";
export { proxy, type ProxyOptions } from "./src/proxy.ts";
export {
  type AuthenticationRequest,
  type AuthenticationResult,
  Authenticator,
  type AuthenticatorOptions,
} from "./src/socket/authenticator.ts";
