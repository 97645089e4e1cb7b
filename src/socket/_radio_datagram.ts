/**
 * libzmq's RADIO/DISH datagram format over `udp://` (src/udp_engine.cpp
 * out_event, in_event): one message per datagram, a length byte, the group,
 * then the body; no handshake, no ZMTP framing. Sans-IO; internal.
 *
 * @module
 */

import { GROUP_MAX_LENGTH } from "./_group.ts";

/**
 * The largest datagram a RADIO sends: libzmq's MAX_UDP_MSG (src/udp_engine.hpp).
 * A libzmq DISH reads into a buffer this size, so a larger datagram would
 * reach it cut short; libzmq's RADIO drops such a message, and so do we.
 */
export const SEND_MAX = 8192;

/** The largest UDP payload over IPv4: the largest datagram a DISH accepts. */
export const RECEIVE_MAX = 65507;

/** A decoded datagram: the group and the body, views of one compact copy. */
export interface RadioDatagram {
  group: Uint8Array<ArrayBuffer>;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * Encodes one message, or returns `undefined` if it does not fit in
 * {@linkcode SEND_MAX} bytes. The group is at most 15 bytes (checked at
 * `send()`). With `scratch` (at least {@linkcode SEND_MAX} bytes) the
 * datagram is a view of it, valid until the next call: a writer that awaits
 * each send allocates nothing per message.
 */
export function encodeDatagram(
  group: Uint8Array,
  body: Uint8Array,
  scratch?: Uint8Array,
): Uint8Array | undefined {
  const size = 1 + group.length + body.length;
  if (size > SEND_MAX) return undefined;
  const datagram = scratch === undefined ? new Uint8Array(size) : scratch.subarray(0, size);
  datagram[0] = group.length;
  datagram.set(group, 1);
  datagram.set(body, 1 + group.length);
  return datagram;
}

/**
 * Decodes a received datagram into a copy (the receive buffer is reused), or
 * says why it is malformed. libzmq's DISH drops a datagram whose group is
 * longer than its bytes (src/udp_engine.cpp in_event). Spec 48 and our
 * RADIO/DISH bound groups to 15 bytes; libzmq since 4.3.3 takes up to 255
 * (ZMQ_GROUP_MAX_LENGTH in include/zmq.h), so a libzmq RADIO may send a
 * longer one: it is dropped here, with an event, like any malformed datagram.
 * (libzmq 4.3.5 reads the length byte as a signed char: a datagram starting
 * with 0x80 or above aborts its DISH process, src/udp_engine.cpp in_event.)
 */
export function decodeDatagram(data: Uint8Array): RadioDatagram | string {
  if (data.length === 0) return "Empty datagram";
  if (data.length > RECEIVE_MAX) return `Datagram over ${RECEIVE_MAX} bytes`;
  const groupLength = data[0];
  if (groupLength > GROUP_MAX_LENGTH) {
    return `Datagram with a ${groupLength}-byte group (at most ${GROUP_MAX_LENGTH})`;
  }
  if (1 + groupLength > data.length) return "Datagram shorter than its group";
  const copy = data.slice(1);
  return { group: copy.subarray(0, groupLength), body: copy.subarray(groupLength) };
}
