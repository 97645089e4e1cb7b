/**
 * The idioms of issue 10 in the main runner: PUSH→PULL over tcp, 16 B and
 * 256 B, the Monocoque receiver taking messages with `for await` of the
 * socket, `for await` of `readable`, or `readable.pipeTo()`, or the Monocoque
 * sender using unawaited `send()`s or a `writable` writer (bench/_idioms.ts).
 * libzmq runs its plain PUSH→PULL beside each row, so the row's
 * Monocoque/libzmq ratio is from the same minutes; the runner also prints
 * each row against the `await receive()` loop row (`thr-tcp-SIZE`).
 * Targets (issue 10): ≥ 1.0× libzmq at 16 B, ≥ 1.5× at 256 B.
 *
 * @module
 */

import { fmtSize } from "../_runner/summary.ts";
import type { Scenario } from "../_runner/types.ts";
import { IDIOM_ROWS } from "../_idioms.ts";
import { receiverRate, THROUGHPUT } from "./_measure.ts";
import { pushPullPlan, THR_PRIOR, thrId } from "./thr.ts";

/** Sizes and transports of the idiom rows (issue 10 also sets targets at 4 KiB, 64 KiB and ipc). */
const SIZES = [16, 256];
const TRANSPORTS = ["tcp"] as const;
/** Unawaited sends hold a promise and a message each until drained (~1 KiB measured): bound the count. */
const MAX_UNAWAITED = 300_000;

/** `idiom-tcp-16-iter`, `idiom-tcp-16-readable`, … `idiom-tcp-256-writer`. */
export function idiomScenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const transport of TRANSPORTS) {
    for (const size of SIZES) {
      for (const row of IDIOM_ROWS.slice(1)) {
        list.push({
          id: `idiom-${transport}-${size}-${row.id}`,
          label: `PUSH→PULL ${transport} ${fmtSize(size)}: ${row.name}`,
          transport,
          plan: (ep, count, impl) =>
            impl === "monocoque"
              ? [
                {
                  role: "receiver",
                  impl: "self",
                  args: ["idiom_recv", row.recv, `@${ep}`, `${count}`],
                  order: 1,
                  holds: false,
                },
                {
                  role: "sender",
                  impl: "self",
                  args: ["idiom_send", row.send, `>${ep}`, `${count}`, `${size}`],
                  order: 2,
                  holds: true,
                },
              ]
              : pushPullPlan(ep, count, size),
          measure: receiverRate,
          metrics: THROUGHPUT,
          prior: THR_PRIOR[size],
          bounds: [2000, row.send === "unawaited" ? MAX_UNAWAITED : 20_000_000],
          impls: ["libzmq", "monocoque"],
          reference: thrId(transport, size),
        });
      }
    }
  }
  return list;
}
