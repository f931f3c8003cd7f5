import type { DriftReport } from "@ml-platform/ml-core";

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * One line per feature: PSI, verdict, missing share (training → requests), and the bucket whose
 * share moved most, which is usually the reason.
 */
export function formatDriftTable(report: DriftReport): string[] {
  const rows = report.features.map((f) => {
    const moved = f.buckets.reduce((a, b) => (Math.abs(b.actual - b.expected) > Math.abs(a.actual - a.expected) ? b : a));
    return [
      f.name,
      f.kind,
      f.psi.toFixed(4),
      f.verdict,
      `${pct(f.missing.expected)} → ${pct(f.missing.actual)}`,
      `${moved.bucket}: ${pct(moved.expected)} → ${pct(moved.actual)}`,
    ];
  });
  const header = ["feature", "kind", "PSI", "verdict", "missing", "largest move (training → requests)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  const { moderate, drift } = report.thresholds;
  return [
    line(header),
    ...rows.map(line),
    `${report.rows} request rows against ${report.baselineRows} training rows; PSI < ${moderate} stable, ${moderate}–${drift} moderate, > ${drift} drift` +
      (report.rows < report.minRows ? `; no verdict below ${report.minRows} rows` : ""),
  ];
}
