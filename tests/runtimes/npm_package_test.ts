/**
 * The npm package: `tools/build_npm.ts` builds it into a temporary folder,
 * `npm pack` makes the tarball, `npm install` puts it (and its @noble
 * dependencies) into a scratch Node project, and Node runs an example from
 * it: REQ/REP over tcp, importing `@monocoque/zmtp` and `@monocoque/zmtp/protocol`
 * by name. tsc then checks a TypeScript consumer against the published
 * declarations.
 *
 * @module
 */

import assert from "node:assert/strict";

const root = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const bin = `${root}tools/node_modules/.bin`;
const dec = new TextDecoder();

async function exec(
  command: string,
  args: string[],
  cwd: string,
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = dec.decode(stdout) + dec.decode(stderr);
  assert.equal(code, 0, `${command} ${args.join(" ")} failed:\n${out}`);
  return out;
}

const EXAMPLE = `
import { RepSocket, ReqSocket, ZmqError } from "@monocoque/zmtp";
import { z85Encode } from "@monocoque/zmtp/protocol";

const rep = new RepSocket();
await rep.bind("tcp://127.0.0.1:0");
const req = new ReqSocket({ receiveTimeout: 10000 });
req.connect(rep.lastEndpoint);
await req.send("hello");
const [request] = await rep.receive();
await rep.send(["world: ", request]);
const reply = await req.receive();
console.log(reply.map((f) => new TextDecoder().decode(f)).join(""));
console.log(z85Encode(new Uint8Array([0x86, 0x4f, 0xd2, 0x6f])));
console.log(new ZmqError("EAGAIN", "x") instanceof Error);
await req.close();
await rep.close();
`;

const TYPED = `
import { type Message, PushSocket, ZmqError } from "@monocoque/zmtp";
import { z85Decode } from "@monocoque/zmtp/protocol";

const push: PushSocket = new PushSocket({ sendHighWaterMark: 10 });
const bytes: Uint8Array = z85Decode("HelloWorld");
const code: string = new ZmqError("EAGAIN", "x").code;
export const sent: (message: Message) => Promise<void> = (m) => push.send(m);
export { bytes, code };
`;

Deno.test("the npm package installs into a Node project and runs REQ/REP over tcp", async () => {
  const scratch = await Deno.makeTempDir({ prefix: "monocoque-npm-" });
  try {
    const dist = `${scratch}/dist`;
    // This Deno, which need not be on PATH (npx -y deno).
    await exec(Deno.execPath(), ["run", "-A", `${root}tools/build_npm.ts`, "--out", dist], root);
    const packed = (await exec("npm", ["pack", "--silent", dist], scratch)).trim().split("\n").at(
      -1,
    )!;
    const project = `${scratch}/project`;
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      `${project}/package.json`,
      JSON.stringify({ name: "scratch", private: true, type: "module" }),
    );
    await exec(
      "npm",
      ["install", "--no-audit", "--no-fund", "--loglevel=error", `${scratch}/${packed}`],
      project,
    );
    await Deno.writeTextFile(`${project}/example.mjs`, EXAMPLE);
    const out = await exec("node", ["example.mjs"], project);
    assert.deepEqual(out.trim().split("\n"), ["world: hello", "Hello", "true"]);

    await Deno.writeTextFile(`${project}/typed.ts`, TYPED);
    await exec(`${bin}/tsc`, [
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      "--lib",
      "es2022,dom,esnext.disposable",
      "typed.ts",
    ], project);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});
