import { formatFields } from "../output";
import type { PromoteResult } from "./promote";

/** A promotion or deploy for humans: each gate, what was pinned, and what to commit. */
export function formatPromote(r: PromoteResult): string {
  const verb = r.apply.applied ? "deployed" : "dry run for";
  return [
    ...r.gates.map((g) => `${g.passed ? "✓" : "✗"} ${g.name}${g.detail !== "ok" ? `: ${g.detail}` : ""}`),
    formatFields([
      ["stack", r.to],
      ["version", `${r.target.arn}${r.target.predicted ? " (predicted: not registered on a dry run)" : r.target.created ? " (registered now)" : ""}`],
      ["source", r.from ? `${r.source.arn} (stack ${r.from})` : undefined],
      ["previous", r.previousPin ?? "(none)"],
      ["preview", Object.entries(r.apply.preview).map(([k, n]) => `${n} ${k}`).join(", ")],
      ["smoke test", r.apply.smoke ? `passed (${r.apply.smoke.smoke?.requests.map((q) => `${q.name} ${q.latencyMs} ms`).join(", ")})` : undefined],
    ]),
    r.apply.applied
      ? `${verb} ${r.to}; commit ${r.apply.configFile} so the pin is in git${r.apply.changed ? "" : " (unchanged)"}`
      : `${verb} ${r.to}: nothing was changed`,
  ].join("\n");
}
