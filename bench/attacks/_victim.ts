/**
 * A victim process of bench/attacks.ts (victim_monocoque.ts under Deno, or
 * victim_pyzmq.py under /usr/bin/python3), driven over its stdin/stdout line
 * protocol: one command line in, exactly one JSON line out. Reads the
 * process's VmRSS from /proc/<pid>/status itself. A victim that exits is
 * reported as crashed, with its exit status and the tail of its stderr.
 *
 * @module
 */

/** One JSON line from a victim. */
export type Reply = Record<string, number | string>;

/** The implementations under test. */
export type Impl = "libzmq" | "monocoque";

/** Thrown when the victim process is gone. */
export class CrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CrashedError";
  }
}

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

function argv(impl: Impl, mode: string, port: number): string[] {
  if (impl === "libzmq") {
    return ["/usr/bin/python3", `${ROOT}/bench/attacks/victim_pyzmq.py`, mode, `${port}`];
  }
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    "--v8-flags=--expose-gc",
    `${ROOT}/bench/attacks/victim_monocoque.ts`,
    mode,
    `${port}`,
  ];
}

/** A port the kernel just handed out and we released: free for the next few ms. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const live = new Set<Victim>();

/** Kills every victim still running (on Ctrl-C, or when the driver fails). */
export function killAll(): void {
  for (const v of live) v.kill();
}

/** A running victim. */
export class Victim {
  readonly port: number;
  readonly pid: number;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #lines: Reply[] = [];
  #wake: (() => void) | undefined;
  #exited: Deno.CommandStatus | undefined;
  #stderr = "";
  readonly status: Promise<Deno.CommandStatus>;

  private constructor(child: Deno.ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    this.pid = child.pid;
    this.#stdin = child.stdin.getWriter();
    live.add(this);
    this.status = child.status.then((s) => {
      live.delete(this);
      this.#exited = s;
      this.#wake?.();
      return s;
    });
    this.#pump(child.stdout);
    this.#pumpErr(child.stderr);
  }

  /** Starts a victim and waits (at most 30 s) until it is bound. */
  static async start(impl: Impl, mode: string): Promise<Victim> {
    const port = freePort();
    const cmd = argv(impl, mode, port);
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const v = new Victim(child, port);
    try {
      await v.next(30_000, "ready");
    } catch (err) {
      v.kill();
      throw err;
    }
    return v;
  }

  async #pump(stdout: ReadableStream<Uint8Array>): Promise<void> {
    let buf = "";
    try {
      for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        for (let nl; (nl = buf.indexOf("\n")) >= 0;) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line.startsWith("{")) continue;
          try {
            this.#lines.push(JSON.parse(line));
            this.#wake?.();
          } catch { /* not a reply */ }
        }
      }
    } catch { /* killed */ }
  }

  async #pumpErr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-4000);
      }
    } catch { /* killed */ }
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited !== undefined;
  }

  /** Why the victim died: exit status and the first telling line of its stderr. */
  crashReason(): string {
    const s = this.#exited;
    const how = s ? (s.signal ? `signal ${s.signal}` : `exit ${s.code}`) : "running";
    // deno-lint-ignore no-control-regex
    const plain = this.#stderr.replace(/\x1b\[[0-9;]*m/g, "");
    const lines = plain.trim().split("\n").map((l) => l.trim()).filter(Boolean);
    const telling = lines.find((l) => /error|heap|stack|fatal/i.test(l)) ?? lines.at(-1) ?? "";
    return `${how}${telling ? `: ${telling.slice(0, 160)}` : ""}`;
  }

  /** The next reply within `ms`, which must be of event `event`. */
  async next(ms: number, event: string): Promise<Reply> {
    const end = performance.now() + ms;
    while (this.#lines.length === 0) {
      if (this.#exited) throw new CrashedError(this.crashReason());
      const left = end - performance.now();
      if (left <= 0) throw new Error(`timeout: victim ${event} after ${ms / 1000}s`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
    const reply = this.#lines.shift()!;
    if (reply.event !== event) {
      throw new Error(`victim replied ${JSON.stringify(reply)} where ${event} was expected`);
    }
    return reply;
  }

  /** Sends one command and waits (at most `ms`) for its reply. */
  async ask(line: string, event: string, ms = 30_000): Promise<Reply> {
    if (this.#exited) throw new CrashedError(this.crashReason());
    try {
      await this.#stdin.write(new TextEncoder().encode(line + "\n"));
    } catch {
      await Promise.race([this.status, new Promise((r) => setTimeout(r, 500))]);
      throw new CrashedError(this.crashReason());
    }
    return await this.next(ms, event);
  }

  /** VmRSS of the victim process in KiB, read from /proc. */
  rssKb(): number {
    try {
      const m = /^VmRSS:\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${this.pid}/status`));
      return m ? Number(m[1]) : NaN;
    } catch {
      throw new CrashedError(this.crashReason());
    }
  }

  /**
   * Memory after a garbage collection in the victim: VmRSS (bytes, from
   * /proc) and, for Monocoque, heapUsed + external as the victim reports it.
   */
  async memory(): Promise<{ rss: number; heap: number }> {
    const r = await this.ask("mem", "mem");
    const heap = Number(r.heap) >= 0 ? Number(r.heap) + Number(r.external) : NaN;
    return { rss: this.rssKb() * 1024, heap };
  }

  /**
   * Waits until VmRSS stops moving (two samples 200 ms apart within 256 KiB),
   * at most `ms`: the victim's I/O may still be absorbing what was sent.
   */
  async settle(ms = 3000): Promise<void> {
    const end = performance.now() + ms;
    let prev = this.rssKb();
    let calm = 0;
    while (performance.now() < end && calm < 2) {
      await new Promise((r) => setTimeout(r, 200));
      const now = this.rssKb();
      calm = Math.abs(now - prev) < 256 ? calm + 1 : 0;
      prev = now;
    }
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  /** Kills the process and waits (at most 5 s) for it to be reaped. */
  async stop(): Promise<void> {
    this.kill();
    await Promise.race([this.status, new Promise((r) => setTimeout(r, 5000))]);
    try {
      await this.#stdin.close();
    } catch { /* gone */ }
  }
}
