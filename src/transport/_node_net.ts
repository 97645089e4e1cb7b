/**
 * The `node:net` and `node:fs` modules, loaded on first use, and the small
 * part of their API the Node transports use, typed here.
 *
 * Why lazily, and through a variable: `mod.ts` must load in a browser and
 * bundle without shims, so no module on its path may import `node:` modules
 * statically. `import(specifier)` with the specifier passed in as an argument
 * is left alone by bundlers (esbuild, Vite, Rollup do not chase a
 * non-literal specifier), and is only ever evaluated under Node or Bun, the
 * first time a socket binds or connects over tcp or ipc. The structural types
 * below keep `@types/node` out of the published declarations.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";

/** A listener for an event with at most one argument. */
type Handler = (value: never) => void;

/** The part of `net.Socket` the Node transports use. */
export interface NodeSocket {
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly destroyed: boolean;
  setNoDelay(noDelay?: boolean): unknown;
  write(data: Uint8Array, callback?: (err?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  pause(): unknown;
  resume(): unknown;
  destroy(err?: Error): unknown;
  on(event: string, listener: Handler): unknown;
  once(event: string, listener: Handler): unknown;
  removeListener(event: string, listener: Handler): unknown;
}

/** The address a TCP server is bound to. */
export interface NodeAddress {
  readonly address: string;
  readonly port: number;
}

/** The part of `net.Server` the Node transports use. */
export interface NodeServer {
  listen(options: { host?: string; port?: number; path?: string }, callback: () => void): unknown;
  address(): NodeAddress | string | null;
  close(callback?: (err?: Error) => void): unknown;
  on(event: string, listener: Handler): unknown;
  once(event: string, listener: Handler): unknown;
  removeListener(event: string, listener: Handler): unknown;
}

/** The part of `node:net` the Node transports use. */
export interface NodeNet {
  createServer(options: { pauseOnConnect?: boolean; noDelay?: boolean }): NodeServer;
  connect(options: { host: string; port: number } | { path: string }): NodeSocket;
}

/** The part of `node:fs` the ipc transport uses. */
export interface NodeFs {
  lstatSync(path: string): { ino: number | bigint; isSocket(): boolean };
  unlinkSync(path: string): void;
}

/** `node:net` and `node:fs`. */
export interface NodeModules {
  readonly net: NodeNet;
  readonly fs: NodeFs;
}

let loaded: Promise<NodeModules> | undefined;

/** Imports a module whose specifier a bundler must not resolve. */
function importDynamic(specifier: string): Promise<unknown> {
  return import(specifier);
}

/** `node:net` and `node:fs`, imported on the first call and shared afterwards. */
export function nodeModules(): Promise<NodeModules> {
  return loaded ??= Promise.all([importDynamic("node:net"), importDynamic("node:fs")]).then(
    ([net, fs]) => ({ net: net as NodeNet, fs: fs as NodeFs }),
    (err) => {
      loaded = undefined;
      // A runtime that says it is Node but has no node:net (a worker with a
      // process polyfill): this transport cannot serve it.
      throw new ZmqError("EPROTONOSUPPORT", "node:net is not available on this runtime", {
        cause: err,
      });
    },
  );
}
