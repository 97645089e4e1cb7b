/**
 * The optional native transport of Monocoque: `tcp://` and `ipc://` over
 * Linux io_uring, through a small C library (`native/`, built with
 * `deno task build:native`) loaded with Deno FFI.
 *
 * C owns the sockets, an mmap'd slab of fixed-size buffers and the ring;
 * JavaScript prepares submissions with fast synchronous FFI calls, submits
 * once per turn and reads completions straight from the shared completion
 * queue. Writes are gathered into slab buffers and sent with one SENDMSG;
 * reads land in slab buffers and are copied into the caller's buffer.
 *
 * It needs `--allow-ffi` (which amounts to full access) and Linux; everything
 * in Monocoque works without it. Nothing in the main entry point imports
 * this module. See `ffi/README.md` for what it costs and when it pays.
 *
 * Importing this module also extends the `shm://NAME` transport to other
 * processes of the host (shared-memory rings in a memfd): the main entry's
 * `shm://` reaches only Workers of its own process (rings in a
 * `SharedArrayBuffer`, no FFI), and it must never import `ffi/` (it needs
 * only `--allow-net`), so this row replaces it here. Without this import,
 * or where the library does not load (not built, no `--allow-ffi`), `shm://`
 * stays the Worker rings; README's "Shared memory" section says which rings
 * a connection uses.
 *
 * @example Opt a socket in (needs `--allow-ffi` and `deno task build:native`)
 * ```ts ignore
 * import { PushSocket } from "@monocoque/zmtp";
 * import { loadNative, NativeTransport } from "@monocoque/zmtp/native";
 *
 * await using native = loadNative();
 * const push = new PushSocket(native ? { transport: new NativeTransport(native) } : {});
 * ```
 *
 * @module
 */

import { registerTransport } from "../src/transport/registry.ts";
import { SHM_SCHEME } from "./_shm.ts";

registerTransport("shm", SHM_SCHEME);

export {
  loadNative,
  NativeLibrary,
  type NativeLibraryOptions,
  type NativeProbe,
  type NativeStats,
  type NativeWake,
  probeNative,
} from "./library.ts";
export { NativeTransport } from "./transport.ts";
export type {
  Connection,
  Endpoint,
  EndpointBase,
  InprocEndpoint,
  IpcEndpoint,
  Listener,
  TcpEndpoint,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
} from "../src/transport/types.ts";
