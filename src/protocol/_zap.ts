/**
 * What a server mechanism does with a ZAP reply (rfc.zeromq.org spec 27), as
 * libzmq 4.3.4's zap_client.cpp does it: 200 accepts; 300 (a temporary
 * failure) closes without an ERROR command, as the CURVE RFC asks; 400 and
 * 500 send an ERROR command whose reason is the status code; any other code
 * is a malformed reply. The User-Id and the reply's metadata become
 * properties of the peer that take precedence over its own metadata.
 *
 * @module
 */

import { decodeMetadata, encodeMetadata, isValidPropertyName } from "./_metadata.ts";
import { concat, errorData, utf8 } from "./_wire.ts";
import type { MechanismHost, MechanismStep, ZapReply } from "./mechanism.ts";

/** A judged ZAP reply: accepted with the properties to append, or refused with a step. */
export type ZapVerdict =
  | { readonly accepted: true; readonly properties: Uint8Array }
  | { readonly accepted: false; readonly step: MechanismStep };

/** Sends an ERROR command with a reason of at most 255 octets. */
export function sendError(host: MechanismHost, reason: string): void {
  host.sendCommand("ERROR", errorData(reason));
}

/**
 * Judges a ZAP reply. Refusals with 400 or 500 send the ERROR command
 * through `host`.
 */
export function judgeZapReply(host: MechanismHost, reply: ZapReply): ZapVerdict {
  const code = reply?.statusCode;
  if (code !== 200 && code !== 300 && code !== 400 && code !== 500) {
    return refuse("protocol", `ZAP reply has an invalid status code: ${code}`);
  }
  const text = typeof reply.statusText === "string" && reply.statusText !== ""
    ? `: ${reply.statusText}`
    : "";
  if (code === 300) return refuse("authentication", `Temporary authentication failure${text}`);
  if (code !== 200) {
    sendError(host, String(code));
    return refuse("authentication", `Authentication refused with ZAP status ${code}${text}`);
  }
  const properties: [string, Uint8Array][] = [];
  const metadata = reply.metadata;
  if (metadata instanceof Uint8Array) {
    try {
      for (const entry of decodeMetadata(metadata)) properties.push(entry);
    } catch (error) {
      return refuse("protocol", `ZAP reply has invalid metadata: ${(error as Error).message}`);
    }
  } else if (metadata !== undefined && metadata !== null) {
    for (const [name, value] of Object.entries(metadata)) {
      if (
        !isValidPropertyName(name) || !(typeof value === "string" || value instanceof Uint8Array)
      ) {
        return refuse("protocol", `ZAP reply has an invalid metadata property: ${name}`);
      }
      properties.push([name, typeof value === "string" ? utf8(value) : value]);
    }
  }
  if (typeof reply.userId === "string" && reply.userId !== "") {
    properties.push(["User-Id", utf8(reply.userId)]);
  }
  return { accepted: true, properties: encodeMetadata(properties) };
}

function refuse(kind: "protocol" | "authentication", reason: string): ZapVerdict {
  return { accepted: false, step: { type: "error", kind, reason } };
}

/** Concatenates the peer's metadata and the ZAP properties that override it. */
export function withProperties(metadata: Uint8Array, properties: Uint8Array): Uint8Array {
  return properties.length === 0 ? metadata : concat(metadata, properties);
}
