/**
 * Message formats of the command-line tool, one message per record:
 *
 * - `ascii`: frames separated by tabs, one message per line; bytes that are
 *   not printable ASCII are shown as `.` (lossy, for eyes).
 * - `quoted`: as ascii, but every byte that is not printable ASCII is
 *   escaped C-style (`\n`, `\t`, `\\`, `\xHH`), so it round-trips exactly.
 * - `raw`: ZMTP frames (flags byte, 1- or 8-octet length, body; rfc.zeromq.org
 *   spec 23 section "Framing") as a binary stream, for `hexdump -C` or for
 *   piping one tool into another.
 * - `jsonl`: one JSON array per line; a frame is a string when it is valid
 *   UTF-8, else `{"base64": "..."}`.
 * - `msgpack`: a stream of MessagePack arrays of `bin` values (strings are
 *   accepted on input).
 *
 * Encoding turns a message into the bytes to print; decoding reads a byte
 * stream (stdin) into messages.
 *
 * @module
 */

import { decodeMultiStream, encode as msgpackEncode } from "@msgpack/msgpack";

/** The names of the formats. */
export const FORMATS = ["ascii", "quoted", "raw", "jsonl", "msgpack"] as const;

/** A message format of the command-line tool. */
export type Format = typeof FORMATS[number];

/** The largest frame accepted from a `raw` input stream, in bytes; larger means corrupt input. */
export const MAX_RAW_FRAME = 256 * 1024 * 1024;

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder();
const HEX = "0123456789abcdef";
const MORE = 0x01;
const LONG = 0x02;

function printable(b: number): boolean {
  return b >= 0x20 && b < 0x7f;
}

function ascii(frame: Uint8Array): string {
  let s = "";
  for (const b of frame) s += printable(b) ? String.fromCharCode(b) : ".";
  return s;
}

const ESCAPES: Record<number, string> = {
  0x00: "\\0",
  0x07: "\\a",
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0b: "\\v",
  0x0c: "\\f",
  0x0d: "\\r",
  0x1b: "\\e",
  0x5c: "\\\\",
};

/**
 * Escapes a frame C-style: printable ASCII stays, everything else becomes an escape.
 *
 * @param frame The frame.
 * @returns The escaped text, with no tab or newline in it.
 *
 * @example
 * ```ts
 * import { quote } from "./_format.ts";
 * console.assert(quote(new Uint8Array([0x68, 0x09, 0xff])) === "h\\t\\xff");
 * ```
 */
export function quote(frame: Uint8Array): string {
  let s = "";
  for (const b of frame) {
    if (b in ESCAPES) s += ESCAPES[b];
    else if (printable(b)) s += String.fromCharCode(b);
    else s += "\\x" + HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}

const UNESCAPES: Record<string, number> = {
  "0": 0x00,
  a: 0x07,
  b: 0x08,
  t: 0x09,
  n: 0x0a,
  v: 0x0b,
  f: 0x0c,
  r: 0x0d,
  e: 0x1b,
  "\\": 0x5c,
  '"': 0x22,
  "'": 0x27,
};

/**
 * Reverses {@linkcode quote}; other characters are taken as UTF-8.
 *
 * @param text The escaped text of one frame.
 * @returns The frame.
 * @throws {TypeError} For an unknown or truncated escape.
 *
 * @example
 * ```ts
 * import { unquote } from "./_format.ts";
 * console.assert(unquote("h\\t\\xff").join() === "104,9,255");
 * ```
 */
export function unquote(text: string): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "\\") {
      const code = text.codePointAt(i)!;
      if (code < 0x80) out.push(code);
      else {
        const ch = String.fromCodePoint(code);
        out.push(...encoder.encode(ch));
        i += ch.length - 1;
      }
      continue;
    }
    const e = text[++i];
    if (e === "x") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new TypeError(`Bad \\x escape in "${text}"`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (e !== undefined && e in UNESCAPES) out.push(UNESCAPES[e]);
    else throw new TypeError(`Bad escape "\\${e ?? ""}" in "${text}"`);
  }
  return new Uint8Array(out);
}

function base64(frame: Uint8Array): string {
  let s = "";
  for (let i = 0; i < frame.length; i += 0x8000) {
    s += String.fromCharCode(...frame.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function jsonFrame(frame: Uint8Array): string | { base64: string } {
  try {
    return strict.decode(frame);
  } catch {
    return { base64: base64(frame) };
  }
}

function rawFrames(message: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const f of message) size += f.length + (f.length > 255 ? 9 : 2);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  message.forEach((f, i) => {
    const more = i < message.length - 1 ? MORE : 0;
    if (f.length > 255) {
      out[at] = more | LONG;
      view.setBigUint64(at + 1, BigInt(f.length));
      at += 9;
    } else {
      out[at] = more;
      out[at + 1] = f.length;
      at += 2;
    }
    out.set(f, at);
    at += f.length;
  });
  return out;
}

/**
 * Encodes one message for output: a line for the text formats, bytes for `raw` and `msgpack`.
 *
 * @param message The frames.
 * @param format The output format.
 * @returns The bytes to write.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./_format.ts";
 * const te = new TextEncoder();
 * const line = encodeMessage([te.encode("topic"), te.encode("a\nb")], "quoted");
 * console.assert(new TextDecoder().decode(line) === "topic\ta\\nb\n");
 * ```
 */
export function encodeMessage(message: readonly Uint8Array[], format: Format): Uint8Array {
  switch (format) {
    case "ascii":
      return encoder.encode(message.map(ascii).join("\t") + "\n");
    case "quoted":
      return encoder.encode(message.map(quote).join("\t") + "\n");
    case "jsonl":
      return encoder.encode(JSON.stringify(message.map(jsonFrame)) + "\n");
    case "raw":
      return rawFrames(message);
    case "msgpack":
      return msgpackEncode(message.map((f) => f));
  }
}

/**
 * Parses one line of text input into a message: frames split on tabs.
 *
 * @param line The line without its newline.
 * @param format `ascii`, `quoted` or `jsonl`.
 * @returns The frames.
 * @throws {TypeError} For malformed `quoted` or `jsonl` input.
 *
 * @example
 * ```ts
 * import { parseLine } from "./_format.ts";
 * const [a, b] = parseLine('["x",{"base64":"AP8="}]', "jsonl");
 * console.assert(a[0] === 0x78 && b[1] === 0xff);
 * ```
 */
export function parseLine(line: string, format: Format): Uint8Array<ArrayBuffer>[] {
  switch (format) {
    case "quoted":
      return line.split("\t").map(unquote);
    case "jsonl":
      return jsonMessage(line);
    default:
      return line.split("\t").map((f) => encoder.encode(f));
  }
}

function jsonMessage(line: string): Uint8Array<ArrayBuffer>[] {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new TypeError(`Not JSON: ${line}`, { cause: e });
  }
  if (typeof value === "string") return [encoder.encode(value)];
  if (!Array.isArray(value)) throw new TypeError(`Not a JSON array of frames: ${line}`);
  return value.map((f) => {
    if (typeof f === "string") return encoder.encode(f);
    if (f !== null && typeof f === "object" && typeof f.base64 === "string") {
      return fromBase64(f.base64);
    }
    throw new TypeError(`A frame must be a string or {"base64": ...}: ${JSON.stringify(f)}`);
  });
}

async function* lines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of input) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl).replace(/\r$/, "");
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest !== "") yield rest;
}

async function* rawMessages(
  input: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array<ArrayBuffer>[]> {
  let buf = new Uint8Array(0);
  let frames: Uint8Array<ArrayBuffer>[] = [];
  for await (const chunk of input) {
    const joined = new Uint8Array(buf.length + chunk.length);
    joined.set(buf);
    joined.set(chunk, buf.length);
    buf = joined;
    for (;;) {
      if (buf.length < 2) break;
      const flags = buf[0];
      const header = flags & LONG ? 9 : 2;
      if (buf.length < header) break;
      const size = flags & LONG
        ? Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(1))
        : buf[1];
      if (size > MAX_RAW_FRAME) throw new RangeError(`Raw input frame of ${size} bytes is too big`);
      if (buf.length < header + size) break;
      frames.push(buf.slice(header, header + size));
      buf = buf.subarray(header + size);
      if (!(flags & MORE)) {
        yield frames;
        frames = [];
      }
    }
  }
  if (buf.length > 0 || frames.length > 0) throw new TypeError("Raw input ends inside a message");
}

async function* msgpackMessages(
  input: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array<ArrayBuffer>[]> {
  for await (const value of decodeMultiStream(input)) {
    const items = Array.isArray(value) ? value : [value];
    yield items.map((f) => {
      if (typeof f === "string") return encoder.encode(f);
      if (f instanceof Uint8Array) return f.slice();
      throw new TypeError("A msgpack message must be an array of bin or str values");
    });
  }
}

/**
 * Reads messages from a byte stream (stdin) in the given format: a line each
 * for the text formats, ZMTP frames for `raw`, MessagePack values for `msgpack`.
 *
 * @param input The bytes.
 * @param format The input format.
 * @returns The messages, as they are read.
 *
 * @example
 * ```ts
 * import { readMessages } from "./_format.ts";
 * const input = ReadableStream.from([new TextEncoder().encode("a\tb\nc\n")]);
 * const got = [];
 * for await (const m of readMessages(input, "ascii")) got.push(m.length);
 * console.assert(got.join() === "2,1");
 * ```
 */
export async function* readMessages(
  input: ReadableStream<Uint8Array>,
  format: Format,
): AsyncGenerator<Uint8Array<ArrayBuffer>[]> {
  if (format === "raw") yield* rawMessages(input);
  else if (format === "msgpack") yield* msgpackMessages(input);
  else for await (const line of lines(input)) yield parseLine(line, format);
}

/**
 * Shows a frame as text for one-line summaries (routing ids, event fields):
 * the text if it is printable UTF-8, else `0x` and hex.
 *
 * @param frame The bytes.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { showId } from "./_format.ts";
 * console.assert(showId(new Uint8Array([0, 1])) === "0x0001");
 * ```
 */
export function showId(frame: Uint8Array): string {
  const text = lenient.decode(frame);
  const readable = frame.length > 0 && frame.every((b) => b >= 0x20 && b !== 0x7f) &&
    !text.includes("\ufffd");
  if (readable) return text;
  let hex = "0x";
  for (const b of frame) hex += HEX[b >> 4] + HEX[b & 15];
  return hex;
}

/**
 * Parses a routing id or group given on the command line: `0x` and hex for bytes, else UTF-8.
 *
 * @param text The argument.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { parseId } from "./_format.ts";
 * console.assert(parseId("0xdead").join() === "222,173");
 * ```
 */
export function parseId(text: string): Uint8Array<ArrayBuffer> {
  if (/^0x([0-9a-fA-F]{2})+$/.test(text)) {
    const out = new Uint8Array((text.length - 2) / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 + 2 * i, 4 + 2 * i), 16);
    return out;
  }
  return encoder.encode(text);
}
