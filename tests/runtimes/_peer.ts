/**
 * A pyzmq peer (libzmq 4.3.4) for the Node and Bun suites: runs
 * `tests/interop/peers/zmq_peer.py` under `/usr/bin/python3` with
 * `node:child_process` and drives its line protocol (one JSON command in,
 * one JSON event out; see tests/interop/peers/README.md), like
 * `tests/_util/peer.ts` does for Deno. Every wait is bounded.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { createInterface } from "node:readline";
import { within } from "./_harness.ts";

/** An event line from the peer. */
export type PeerEvent = { event: string; [key: string]: unknown };

const hex = (b: Uint8Array | string): string =>
  Buffer.from(typeof b === "string" ? new TextEncoder().encode(b) : b).toString("hex");
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

/** A running pyzmq peer with one socket. */
export class PyPeer {
  /** The first bound or connected endpoint (port resolved). */
  endpoint = "";
  #child: ChildProcess;
  #lines: string[] = [];
  #waiter: (() => void) | undefined;
  #exited = false;
  #stderr = "";
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcess) {
    this.#child = child;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.trim() !== "") this.#lines.push(line);
      this.#wake();
    });
    child.stdin!.on("error", () => {}); // EPIPE once the process is gone
    child.stderr!.on("data", (d: Buffer) => this.#stderr = (this.#stderr + d).slice(-4096));
    child.on("exit", () => {
      this.#exited = true;
      this.#wake();
    });
    child.on("error", () => {
      this.#exited = true;
      this.#wake();
    });
  }

  /** Starts `zmq_peer.py --type TYPE --bind|--connect ENDPOINT [args]` and waits until ready. */
  static async start(
    type: string,
    how: { bind?: string; connect?: string; args?: string[] },
  ): Promise<PyPeer> {
    const args = ["tests/interop/peers/zmq_peer.py", "--type", type];
    if (how.bind) args.push("--bind", how.bind);
    if (how.connect) args.push("--connect", how.connect);
    args.push(...(how.args ?? []));
    const peer = new PyPeer(spawn("/usr/bin/python3", args, { stdio: ["pipe", "pipe", "pipe"] }));
    const ready = await within(peer.#next(), `pyzmq ${type} start`, 20_000);
    if (ready.event !== "ready") {
      peer.kill();
      throw new Error(`pyzmq ${type} did not start: ${JSON.stringify(ready)} ${peer.#stderr}`);
    }
    peer.endpoint = ready.endpoint as string;
    return peer;
  }

  /** Sends one command and returns the answer; commands are serialized. */
  request(command: Record<string, unknown>, ms = 20_000): Promise<PeerEvent> {
    const result = this.#queue.then(async () => {
      this.#child.stdin!.write(JSON.stringify(command) + "\n");
      return await within(this.#next(), `pyzmq ${command.op}`, ms);
    });
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Sends one message. */
  async send(frames: readonly (string | Uint8Array)[]): Promise<void> {
    const ev = await this.request({ op: "send", frames: frames.map(hex) });
    if (ev.event !== "sent") throw new Error(`pyzmq send: ${JSON.stringify(ev)}`);
  }

  /** Receives one message, or `undefined` after `timeout` ms. */
  async recv(timeout = 10_000): Promise<Uint8Array[] | undefined> {
    const ev = await this.request({ op: "recv", timeout }, timeout + 10_000);
    if (ev.event === "timeout") return undefined;
    if (ev.event !== "msg") throw new Error(`pyzmq recv: ${JSON.stringify(ev)}`);
    return (ev.frames as string[]).map(unhex);
  }

  /** Receives `count` messages and sends each back (REP, ROUTER). */
  async echo(count: number, timeout = 10_000): Promise<number> {
    const ev = await this.request({ op: "echo", count, timeout }, count * timeout + 10_000);
    return ev.count as number;
  }

  /** Ends the peer: closes its socket, then the process (killed if it lingers). */
  async close(): Promise<void> {
    if (!this.#exited) {
      try {
        await this.request({ op: "close" }, 5000);
      } catch { /* killed below */ }
      this.#child.stdin!.end();
      try {
        await within(
          new Promise<void>((resolve) =>
            this.#exited ? resolve() : this.#child.on("exit", resolve)
          ),
          "pyzmq exit",
          5000,
        );
      } catch {
        this.kill();
      }
    }
  }

  /** Kills the process at once (a peer that dies). */
  kill(): void {
    if (!this.#exited) this.#child.kill("SIGKILL");
  }

  async #next(): Promise<PeerEvent> {
    while (this.#lines.length === 0) {
      if (this.#exited) throw new Error(`pyzmq exited: ${this.#stderr}`);
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
    return JSON.parse(this.#lines.shift()!) as PeerEvent;
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}
