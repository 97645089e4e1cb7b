/**
 * The layering rules of DESIGN.md that a type checker cannot see: nothing
 * reachable from `mod.ts` imports `ffi/` (the default package needs no
 * `--allow-ffi`), and `src/` imports nothing from tests, benches or examples.
 * (`src/protocol/purity_test.ts` checks the protocol core's own rule.)
 *
 * @module
 */

import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

/** Relative import specifiers of a module, resolved to URLs. */
function imports(url: URL): URL[] {
  const source = Deno.readTextFileSync(url);
  const specifiers = [...source.matchAll(/(?:import|export)[^"';]*?from\s*["']([^"']+)["']/g)]
    .map((m) => m[1])
    .filter((s) => s.startsWith("."));
  return specifiers.map((s) => new URL(s, url));
}

Deno.test("nothing reachable from mod.ts imports ffi/, native/, tests/, bench/ or examples/", () => {
  const seen = new Set<string>();
  const queue = [new URL("mod.ts", root), new URL("src/protocol/mod.ts", root)];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    const path = url.href.slice(root.href.length);
    assert.match(path, /^(mod\.ts|src\/)/, `mod.ts reaches ${path}`);
    queue.push(...imports(url));
  }
  assert.ok(seen.size > 20, `only ${seen.size} modules were walked`);
});
