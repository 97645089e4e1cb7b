// Drives Debian's Chromium, headless, for tests/browser/: `node _driver.mjs URL TIMEOUT_MS [FLAG...]`
// (FLAGs: more Chromium flags) opens URL, waits until the page sets `data-done` on <body>, and prints one JSON line on stdout:
// { result: <text of #result> or null, console: [lines], errors: [uncaught page errors] }.
// playwright-core (pinned, from tools/node_modules, installed by tools/setup.sh) drives the
// browser at /usr/bin/chromium (or $CHROMIUM); it downloads no browser of its own. Every wait is
// bounded by TIMEOUT_MS, and a hard deadline ends the process (and so the browser) after it.

import { createRequire } from "node:module";
import process from "node:process";

const require = createRequire(new URL("../../tools/", import.meta.url));
const { chromium } = require("playwright-core");

// The flags Chromium needs on these machines: without the background-networking ones it opens
// connections that the closed network refuses, many at a time.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const [url, timeoutArg, ...moreArgs] = process.argv.slice(2);
const timeout = Number.parseInt(timeoutArg ?? "30000", 10);
if (!url || !(timeout > 0)) {
  process.stderr.write("usage: node _driver.mjs URL TIMEOUT_MS [CHROMIUM_FLAG...]\n");
  process.exit(2);
}

const deadline = setTimeout(() => {
  process.stderr.write(`driver: no result after ${timeout + 10_000} ms, giving up\n`);
  process.exit(3);
}, timeout + 10_000);

const consoleLines = [];
const errors = [];
// launch() runs Chromium with a new empty profile in a temporary folder and removes it on close.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [...ARGS, ...moreArgs],
  timeout,
});
try {
  const page = await browser.newPage();
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  // An uncaught error (a bundle that throws as it loads, say) ends the wait at once: the page
  // would never report.
  let failed;
  const crashed = new Promise((resolve) => failed = resolve);
  page.on("pageerror", (e) => {
    errors.push(String(e?.stack ?? e));
    failed();
  });
  await page.goto(url, { timeout });
  const done = page.waitForSelector("body[data-done]", { state: "attached", timeout });
  done.catch(() => {});
  const reported = await Promise.race([done.then(() => true), crashed.then(() => false)]);
  const result = reported ? await page.textContent("#result", { timeout }) : null;
  process.stdout.write(JSON.stringify({ result, console: consoleLines, errors }) + "\n");
} finally {
  await browser.close();
  clearTimeout(deadline);
}
