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

/** Import specifiers of a module (static, re-export and side-effect imports). */
function specifiers(url: URL): string[] {
  const source = Deno.readTextFileSync(url);
  return [
    ...source.matchAll(/^\s*(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']/gm),
    ...source.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
  ].map((m) => m[1]);
}

/** Relative import specifiers of a module, resolved to URLs. */
function imports(url: URL): URL[] {
  return specifiers(url).filter((s) => s.startsWith(".")).map((s) => new URL(s, url));
}

/** Every module reachable from the given entries through relative imports. */
function reachable(...entries: string[]): URL[] {
  const seen = new Map<string, URL>();
  const queue = entries.map((e) => new URL(e, root));
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (seen.has(url.href)) continue;
    seen.set(url.href, url);
    queue.push(...imports(url));
  }
  return [...seen.values()];
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

Deno.test("mod.ts and ./protocol load in a browser: no node: imports, npm packages by bare name", () => {
  const modules = reachable("mod.ts", "src/protocol/mod.ts");
  assert.ok(modules.length > 20, `only ${modules.length} modules were walked`);
  for (const url of modules) {
    const path = url.href.slice(root.href.length);
    for (const s of specifiers(url)) {
      assert.ok(!s.startsWith("node:"), `${path} imports ${s}`);
      assert.ok(!s.startsWith("npm:") && !s.startsWith("jsr:"), `${path} imports ${s} inline`);
    }
  }
});
