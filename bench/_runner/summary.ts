/**
 * Statistics and text output of the side-by-side runner: the median and
 * min..max of a row's runs, number formatting, ratios, how noisy a row was,
 * and Markdown tables.
 *
 * @module
 */

/** The runs of one implementation on one row. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median, min and max of `values`; undefined when there are none. */
export function summarize(values: number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

/** "16 B", "4 KiB". */
export function fmtSize(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

/** Three significant figures or so, with k and M. */
export function fmtNum(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 1 : 2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  if (x >= 100) return x.toFixed(0);
  return x.toFixed(1);
}

/** "median [min..max] (k failed)". */
export function cell(s: Summary | undefined, runs: number): string {
  if (!s) return "failed";
  const spread = s.n > 1 ? ` [${fmtNum(s.min)}..${fmtNum(s.max)}]` : "";
  const failed = s.n < runs ? ` (${runs - s.n} failed)` : "";
  return `${fmtNum(s.median)}${spread}${failed}`;
}

/** a ÷ b of the medians, "–" when either is missing. */
export function ratio(a: Summary | undefined, b: Summary | undefined): string {
  return a && b && b.median > 0 ? `${(a.median / b.median).toFixed(2)}×` : "–";
}

/** Above this max/min of one implementation's runs a row is flagged noisy (README: Method). */
export const NOISY_SPREAD = 1.25;

/** The largest max/min over the implementations of a row; NaN with fewer than 2 runs each. */
export function spreadOf(summaries: (Summary | undefined)[]): number {
  let worst = NaN;
  for (const s of summaries) {
    if (!s || s.n < 2 || s.min <= 0) continue;
    const r = s.max / s.min;
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

/** "1.08×", "1.40× !" above NOISY_SPREAD, "–" for a single run. */
export function fmtSpread(spread: number): string {
  if (Number.isNaN(spread)) return "–";
  return `${spread.toFixed(2)}×${spread > NOISY_SPREAD ? " !" : ""}`;
}

/** "0.33→1.10", with " !" when either is above the number of cores. */
export function fmtLoad(before: number, after: number, cores: number): string {
  if (Number.isNaN(before) || Number.isNaN(after)) return "–";
  const busy = Math.max(before, after) > cores ? " !" : "";
  return `${before.toFixed(2)}→${after.toFixed(2)}${busy}`;
}

/** A Markdown table; the first two columns are text, the rest are figures. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const left = (i: number) => i < 2;
  const line = (r: string[]) =>
    `| ${r.map((c, i) => left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ")} |`;
  const sep = `|${
    widths.map((w, i) => left(i) ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":").join("|")
  }|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}
