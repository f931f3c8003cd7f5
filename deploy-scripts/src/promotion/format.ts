import { formatFields } from "../output";
import type { PromoteResult } from "./promote";

/** A promotion or deploy for humans: each gate, what was registered or pinned, and what comes next. */
export function formatPromote(r: PromoteResult): string {
  const gates = r.gates.map((g) => `${g.passed ? "✓" : "✗"} ${g.name}${g.detail !== "ok" ? `: ${g.detail}` : ""}`);
  const version = `${r.target.arn}${r.target.predicted ? " (predicted: not registered on a dry run)" : r.target.created ? " (registered now)" : ""}`;
  const source = r.from ? `${r.source.arn} (stack ${r.from})` : undefined;
  if (!r.apply) {
    return [
      ...gates,
      formatFields([
        ["stack", r.to],
        ["version", `${version}, PendingManualApproval`],
        ["image", r.target.image],
        ["source", source],
      ]),
      `copied into ${r.to}; nothing was pinned: stack "${r.to}" requires its approver's approval first`,
      ...(r.awaitingApproval?.next ?? []).map((n) => `next: ${n}`),
    ].join("\n");
  }
  const apply = r.apply;
  const verb = apply.applied ? "deployed" : "dry run for";
  return [
    ...gates,
    formatFields([
      ["stack", r.to],
      ["version", version],
      ["image", r.target.image],
      ["source", source],
      ["previous", r.previousPin ?? "(none)"],
      [
        "preview",
        Object.entries(apply.preview)
          .map(([k, n]) => `${n} ${k}`)
          .join(", "),
      ],
      ["smoke test", apply.smoke ? `passed (${apply.smoke.smoke?.requests.map((q) => `${q.name} ${q.latencyMs} ms`).join(", ")})` : undefined],
    ]),
    apply.applied
      ? `${verb} ${r.to}; commit ${apply.configFile} so the pin is in git${apply.changed ? "" : " (unchanged)"}`
      : `${verb} ${r.to}: nothing was changed`,
  ].join("\n");
}
