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
 * Importing this module also registers the `shm://NAME` transport
 * (shared-memory rings between processes of one host): the registry row
 * lives here, not in the main entry's registry, because the main entry must
 * never import `ffi/` (it needs only `--allow-net`). So
 * `import "@monocoque/zmtp/native"` is what enables `shm://`; without it, or
 * where the library does not load (not built, no `--allow-ffi`), bind and
 * connect to `shm://` are `EPROTONOSUPPORT`.
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
