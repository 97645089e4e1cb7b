/**
 * `monocoque proxy`: libzmq's zmq_proxy from the command line, through
 * `proxy()` of the library. A frontend and a backend socket, each with its
 * own endpoints; optionally a capture PUB socket that gets a copy of every
 * message and a control REP socket that takes PAUSE, RESUME, TERMINATE and
 * STATISTICS (zmq_proxy_steerable). Runs until TERMINATE or Ctrl-C. The
 * security flags (CURVE, PLAIN) apply to the frontend, where clients come in.
 *
 * @module
 */

import { proxy, type SubSocket } from "../mod.ts";
import type { Io } from "./_io.ts";
import { watchEvents } from "./_monitor.ts";
import { INTERRUPTED } from "./_run.ts";
import { type OpenSocket, openSocket, type SocketFlags, type SocketKind } from "./_socket.ts";

/** Flags of `proxy`. */
export interface ProxyFlags extends Omit<SocketFlags, "bind" | "connect"> {
  /** Frontend endpoints to bind. */
  frontendBind?: string[];
  /** Frontend endpoints to connect. */
  frontendConnect?: string[];
  /** Backend endpoints to bind. */
  backendBind?: string[];
  /** Backend endpoints to connect. */
  backendConnect?: string[];
  /** Bind a PUB socket here that gets a copy of every message. */
  capture?: string;
  /** Bind a REP socket here that takes the proxy's commands. */
  control?: string;
  /** Print both sockets' events on stderr. */
  verbose?: boolean;
}

/** The security flags cleared: only the frontend authenticates. */
const INSECURE: Partial<SocketFlags> = {
  curveServer: undefined,
  curveServerkey: undefined,
  curveSecretkey: undefined,
  curvePublickey: undefined,
  curveAllow: undefined,
  plainServer: undefined,
  plainUsername: undefined,
  plainPassword: undefined,
  plainUser: undefined,
  zapDomain: undefined,
};

/**
 * Runs a proxy between two sockets until TERMINATE on the control socket or `io.signal`.
 *
 * @param frontend The frontend's type.
 * @param backend The backend's type.
 * @param flags Endpoints and options.
 * @param io The terminal.
 * @returns The exit status: 0 after TERMINATE, 130 after Ctrl-C.
 *
 * @example
 * ```ts ignore
 * import { runProxy } from "./_proxy.ts";
 * import { denoIo } from "./_io.ts";
 * await runProxy("router", "dealer", { frontendBind: ["tcp://*:5559"], backendBind: ["tcp://*:5560"] },
 *   denoIo(new AbortController().signal));
 * ```
 */
export async function runProxy(
  frontend: SocketKind,
  backend: SocketKind,
  flags: ProxyFlags,
  io: Io,
): Promise<number> {
  const opened: OpenSocket[] = [];
  const open = async (kind: SocketKind, name: string, more: Partial<SocketFlags>) => {
    const s = await openSocket(kind, { ...flags, ...more }, io.log);
    opened.push(s);
    if (flags.verbose) {
      for (const endpoint of s.bound) io.log(`${name} bound ${endpoint}`);
      void watchEvents(s.socket, (line) => io.log(`${name} ${line}`)).catch(() => {});
    }
    return s;
  };
  try {
    const front = await open(frontend, "frontend", {
      bind: flags.frontendBind,
      connect: flags.frontendConnect,
    });
    const back = await open(backend, "backend", {
      ...INSECURE,
      bind: flags.backendBind,
      connect: flags.backendConnect,
    });
    for (const s of [front, back]) {
      if (s.socket.type === "SUB") (s.socket as SubSocket).subscribe("");
    }
    const plain = { ...INSECURE, linger: 0 };
    const capture = flags.capture === undefined
      ? undefined
      : await open("pub", "capture", { ...plain, bind: [flags.capture] });
    const control = flags.control === undefined
      ? undefined
      : await open("rep", "control", { ...plain, bind: [flags.control] });
    await proxy(front.socket, back.socket, {
      capture: capture?.socket,
      control: control?.socket,
      signal: io.signal,
    });
    return io.signal.aborted ? INTERRUPTED : 0;
  } finally {
    for (const s of opened.reverse()) await s.close();
  }
}
