/**
 * Monocoque-on-Deno as a peer for the Node and Bun scenarios, inside the Deno
 * test process: `runtimes_test.ts` hands each `@deno {json}` line a bundle
 * prints to {@linkcode DenoSide.handle}, and writes the answer back to the
 * bundle's stdin as one JSON line (`_deno_peer.ts` is the other end). So a
 * scenario under Node can bind or connect a Deno socket, send and receive on
 * it, and assert everything on its side.
 *
 * Commands (each with an `id` the answer repeats): `open` {type, bind |
 * connect, subscribe?} → {endpoint, sock}; `send` {sock, frames} → {};
 * `recv` {sock} → {frames}; `close` {sock} → {}. Frames are strings. A
 * failure answers {error}. Every receive is bounded by `receiveTimeout`.
 *
 * @module
 */

import {
  DealerSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type Socket,
  SubSocket,
} from "../../mod.ts";

const TYPES: Record<string, new (options: Record<string, number>) => Socket> = {
  REQ: ReqSocket,
  REP: RepSocket,
  PUB: PubSocket,
  SUB: SubSocket,
  DEALER: DealerSocket,
  ROUTER: RouterSocket,
  PUSH: PushSocket,
  PULL: PullSocket,
};
const OPTIONS = { receiveTimeout: 15_000, sendTimeout: 15_000, linger: 0 };

type Command = {
  id: number;
  op: string;
  type?: string;
  bind?: string;
  connect?: string;
  subscribe?: string;
  sock?: number;
  frames?: string[];
};

/** The Deno sockets one bundle opened; {@linkcode DenoSide.close} closes what is left. */
export class DenoSide {
  #sockets = new Map<number, Socket>();
  #next = 0;
  #running = new Set<Promise<unknown>>();

  /** Runs one command line (without its `@deno ` prefix); `answer` gets the reply line. */
  handle(line: string, answer: (line: string) => void): void {
    const command = JSON.parse(line) as Command;
    const done = this.#run(command).then(
      (result) => answer(JSON.stringify({ id: command.id, ...result })),
      (err) => answer(JSON.stringify({ id: command.id, error: String(err?.stack ?? err) })),
    );
    this.#running.add(done);
    done.finally(() => this.#running.delete(done));
  }

  async #run(command: Command): Promise<Record<string, unknown>> {
    switch (command.op) {
      case "open": {
        const Type = TYPES[command.type!];
        if (Type === undefined) throw new TypeError(`No socket type ${command.type}`);
        const socket = new Type(OPTIONS);
        const sock = this.#next++;
        this.#sockets.set(sock, socket);
        if (command.subscribe !== undefined) (socket as SubSocket).subscribe(command.subscribe);
        if (command.bind !== undefined) await socket.bind(command.bind);
        if (command.connect !== undefined) socket.connect(command.connect);
        return { sock, endpoint: socket.lastEndpoint ?? command.connect };
      }
      case "send":
        await this.#socket(command).send(command.frames!);
        return {};
      case "recv": {
        const frames = await this.#socket(command).receive();
        return { frames: frames.map((f) => new TextDecoder().decode(f)) };
      }
      case "close": {
        const socket = this.#socket(command);
        this.#sockets.delete(command.sock!);
        await socket.close();
        return {};
      }
      default:
        throw new TypeError(`Unknown op ${command.op}`);
    }
  }

  #socket(command: Command): Socket {
    const socket = this.#sockets.get(command.sock!);
    if (socket === undefined) throw new TypeError(`No socket ${command.sock}`);
    return socket;
  }

  /** Closes every socket still open and waits for the commands under way. */
  async close(): Promise<void> {
    await Promise.all([...this.#sockets.values()].map((s) => s.close()));
    this.#sockets.clear();
    await Promise.allSettled([...this.#running]);
  }
}
