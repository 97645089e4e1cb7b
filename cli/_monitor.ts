/**
 * Socket events as lines, live: the `monitor` command (a socket that only
 * watches its connections) and the `--verbose` flag of the socket commands
 * (events on stderr beside the messages on stdout). A text line is the time,
 * the event name as libzmq's monitor calls it, the endpoint and the details;
 * `--format jsonl` gives one JSON object per event.
 *
 * @module
 */

import type { Socket, SocketEvent } from "../mod.ts";
import { showId } from "./_format.ts";

/** libzmq's names for our events (zmq_socket_monitor's ZMQ_EVENT_*), for people who know them. */
const LIBZMQ_NAMES: Record<SocketEvent["type"], string> = {
  listening: "LISTENING",
  bindFailed: "BIND_FAILED",
  accepted: "ACCEPTED",
  acceptFailed: "ACCEPT_FAILED",
  connected: "CONNECTED",
  connectDelayed: "CONNECT_DELAYED",
  connectRetried: "CONNECT_RETRIED",
  handshakeSucceeded: "HANDSHAKE_SUCCEEDED",
  handshakeFailed: "HANDSHAKE_FAILED",
  disconnected: "DISCONNECTED",
  routingIdConflict: "ROUTING_ID_CONFLICT",
  // No libzmq event: its udp engine drops bad datagrams silently.
  datagramDropped: "DATAGRAM_DROPPED",
  closed: "CLOSED",
};

function details(event: SocketEvent): Record<string, string | number> {
  switch (event.type) {
    case "accepted":
      return { remote: event.remote };
    case "bindFailed":
    case "acceptFailed":
    case "connectDelayed":
      return { error: event.error.message };
    case "connectRetried":
      return { interval: event.interval };
    case "handshakeSucceeded": {
      const d: Record<string, string> = { peer: event.peer.socketType };
      if (event.peer.routingId !== undefined) d.routingId = showId(event.peer.routingId);
      if (event.peer.userId !== undefined) d.userId = event.peer.userId;
      return d;
    }
    case "handshakeFailed":
      return { remote: event.remote, kind: event.kind, reason: event.reason };
    case "disconnected":
      return { remote: event.remote, reason: event.reason };
    case "routingIdConflict":
      return { remote: event.remote, routingId: showId(event.routingId), action: event.action };
    case "datagramDropped":
      return { remote: event.remote, reason: event.reason };
    default:
      return {};
  }
}

/**
 * One event as a line of text or JSON, without the newline.
 *
 * @param event The event.
 * @param json JSON instead of text.
 * @param now The time to print.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { formatEvent } from "./_monitor.ts";
 * const line = formatEvent({ type: "listening", endpoint: "tcp://127.0.0.1:5555" }, false, new Date(0));
 * console.assert(line === "00:00:00.000 LISTENING tcp://127.0.0.1:5555");
 * ```
 */
export function formatEvent(event: SocketEvent, json: boolean, now: Date = new Date()): string {
  const more = details(event);
  if (json) {
    return JSON.stringify({
      time: now.toISOString(),
      event: LIBZMQ_NAMES[event.type],
      endpoint: event.endpoint,
      ...more,
    });
  }
  const time = now.toISOString().slice(11, 23);
  const rest = Object.entries(more).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
  return `${time} ${LIBZMQ_NAMES[event.type]} ${event.endpoint}${rest ? " " + rest : ""}`;
}

/**
 * Prints a socket's events as they happen until the socket closes or `signal` aborts.
 *
 * @param socket The socket to watch.
 * @param print Takes each line.
 * @param options `json` for JSON lines; `signal` ends the watch.
 * @returns Resolves when the watch ends.
 *
 * @example
 * ```ts
 * import { PullSocket } from "../mod.ts";
 * import { watchEvents } from "./_monitor.ts";
 * const pull = new PullSocket();
 * const lines: string[] = [];
 * const watching = watchEvents(pull, (l) => lines.push(l), { json: true });
 * await pull.bind("inproc://watch-doc");
 * await pull.close();
 * await watching;
 * console.assert(lines.some((l) => l.includes("LISTENING")));
 * ```
 */
export async function watchEvents(
  socket: Socket,
  print: (line: string) => void,
  options: { json?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  for await (const event of socket.events({ signal: options.signal })) {
    print(formatEvent(event, options.json ?? false));
  }
}

/**
 * Resolves at the socket's first completed handshake, or when `signal`
 * aborts or the socket closes. Call it before `connect()`/`bind()` so the
 * event cannot be missed.
 *
 * @param socket The socket.
 * @param signal Stops waiting.
 * @returns Resolves as said.
 *
 * @example
 * ```ts
 * import { PullSocket, PushSocket } from "../mod.ts";
 * import { firstPeer } from "./_monitor.ts";
 * await using pull = new PullSocket();
 * await pull.bind("inproc://first-peer-doc");
 * await using push = new PushSocket();
 * const ready = firstPeer(push, new AbortController().signal);
 * push.connect("inproc://first-peer-doc");
 * await ready;
 * ```
 */
export async function firstPeer(socket: Socket, signal: AbortSignal): Promise<void> {
  for await (const event of socket.events({ signal })) {
    if (event.type === "handshakeSucceeded") return;
  }
}
