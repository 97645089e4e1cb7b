/**
 * The CLI in a real terminal: a tmux session runs `monocoque pair` on a
 * pseudo-terminal, keys typed into it go to a libzmq PAIR, what the peer
 * sends shows up on the screen, and Ctrl-C ends it with status 130. Skipped
 * where tmux is missing (tools/setup.sh installs it).
 */

import assert from "node:assert/strict";
import { Peer } from "../_util/peer.ts";
import { MAIN, ROOT } from "./_cli.ts";

const hasTmux = (() => {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

/** A tmux server of its own (-L), so the test never touches the user's sessions. */
class Tmux implements AsyncDisposable {
  readonly socket = `monocoque-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

  async run(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  }

  screen(): Promise<string> {
    return this.run("capture-pane", "-p", "-t", "cli");
  }

  /** Polls the screen (a terminal has no event to wait on) until `ready`, at most `ms`. */
  async waitFor(ready: (screen: string) => boolean, what: string, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = await this.screen();
      if (ready(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`No ${what} on the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.run("kill-server").catch(() => {});
  }
}

/** Starts `monocoque ARGS` in a new tmux session `cli`, the pane kept open to show the exit status. */
async function startIn(tmux: Tmux, args: string[]): Promise<void> {
  const command = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args]
    .map((a) => `'${a}'`).join(" ");
  await tmux.run(
    "new-session",
    "-d",
    "-s",
    "cli",
    "-x",
    "120",
    "-y",
    "20",
    "-c",
    ROOT,
    `bash --norc -c "${command.replaceAll('"', '\\"')}; echo exit=\\$?; sleep 60"`,
  );
}

Deno.test({
  name: "in a terminal, `monocoque push` sends typed lines and one Ctrl-C ends it mid-read",
  ignore: !hasTmux,
  async fn() {
    await using pull = await Peer.start({ type: "PULL", bind: "tcp://127.0.0.1:0" });
    await using tmux = new Tmux();
    await startIn(tmux, ["push", "-c", pull.endpoint]);
    await tmux.run("send-keys", "-t", "cli", "one line", "Enter");
    assert.deepEqual((await pull.recv(30_000))?.map((f) => new TextDecoder().decode(f)), [
      "one line",
    ]);
    // The CLI now waits on the terminal for the next line: Ctrl-C must not wait for it.
    await tmux.run("send-keys", "-t", "cli", "C-c");
    const screen = await tmux.waitFor((s) => /exit=\d+/.test(s), "exit status");
    assert.match(screen, /exit=130/);
  },
});

Deno.test({
  name: "in a terminal, `monocoque pair` sends typed lines, shows the peer's and stops on Ctrl-C",
  ignore: !hasTmux,
  async fn() {
    await using peer = await Peer.start({ type: "PAIR", bind: "tcp://127.0.0.1:0" });
    await using tmux = new Tmux();
    await startIn(tmux, ["pair", "-c", peer.endpoint]);
    await tmux.run("send-keys", "-t", "cli", "typed by hand", "Enter");
    assert.deepEqual((await peer.recv(30_000))?.map((f) => new TextDecoder().decode(f)), [
      "typed by hand",
    ]);
    await peer.send(["shown on screen"]);
    await tmux.waitFor((s) => s.includes("shown on screen"), "message from the peer");
    await tmux.run("send-keys", "-t", "cli", "C-c");
    const screen = await tmux.waitFor((s) => /exit=\d+/.test(s), "exit status");
    assert.match(screen, /exit=130/);
  },
});
