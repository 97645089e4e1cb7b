/**
 * `monocoque keygen`: a CURVE key pair (libzmq's `zmq_curve_keypair`, as its
 * `curve_keygen` tool prints), or with `--secret` the public key of a secret
 * key (`zmq_curve_public`). Keys are 40-character Z85 strings, ready for
 * `--curve-secretkey` / `--curve-serverkey`.
 *
 * @module
 */

import { curveKeyPair, curvePublicKey } from "../mod.ts";
import { UsageError } from "./_usage.ts";

/** Flags of `keygen`. */
export interface KeygenFlags {
  /** Derive the public key of this secret key instead of making a pair. */
  secret?: string;
  /** One JSON object instead of two lines. */
  json?: boolean;
}

/**
 * The lines `keygen` prints: `public-key: ...` and `secret-key: ...`, or JSON.
 *
 * @param flags The flags.
 * @returns The text to print, ending in a newline.
 * @throws {UsageError} For a `--secret` that is not a CURVE key.
 *
 * @example
 * ```ts
 * import { keygen } from "./_keygen.ts";
 * const text = keygen({ json: true });
 * console.assert(JSON.parse(text).publicKey.length === 40);
 * ```
 */
export function keygen(flags: KeygenFlags): string {
  let pair: { publicKey: string; secretKey: string };
  if (flags.secret !== undefined) {
    try {
      pair = { publicKey: curvePublicKey(flags.secret), secretKey: flags.secret };
    } catch (e) {
      throw new UsageError(`--secret: ${(e as Error).message}`);
    }
  } else pair = curveKeyPair();
  if (flags.json) return JSON.stringify(pair) + "\n";
  return `public-key: ${pair.publicKey}\nsecret-key: ${pair.secretKey}\n`;
}
