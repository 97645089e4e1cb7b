/**
 * Frames as text: the one helper that saves writing
 * `new TextDecoder().decode(frame)` for every reply, while frames stay
 * zero-copy `Uint8Array`s for everything else.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * Decodes one frame as UTF-8 (pyzmq's `recv_string`, zeromq.js's
 * `frame.toString()`). Malformed bytes become U+FFFD, as `TextDecoder` does
 * by default. For a whole message, `message.map(text)`.
 *
 * @example Strings from a reply
 * ```ts
 * import { PullSocket, PushSocket, text } from "@monocoque/zmtp";
 *
 * await using pull = new PullSocket();
 * await pull.bind("inproc://text-doc");
 * await using push = new PushSocket();
 * push.connect("inproc://text-doc");
 * await push.send(["weather", "21C"]);
 * const message = await pull.receive();
 * console.assert(text(message[1]) === "21C");
 * console.assert(message.map(text).join(" ") === "weather 21C");
 * ```
 *
 * @param frame One frame, as `receive()` or any other reader hands it out.
 * @returns The frame's text.
 */
export function text(frame: Uint8Array): string {
  return decoder.decode(frame);
}
