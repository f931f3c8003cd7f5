// A process's own peak resident set size, for the benchmarks' workers.
import * as fs from "node:fs";

/**
 * VmHWM, this process's own high-water mark. On Linux `maxRSS` (ru_maxrss) also counts the pages a
 * child shares with its parent at fork, so a child of a large runner reports at least the runner's
 * size (seen here: a 310 MB runner's child reported 309 MB, its VmHWM 40).
 */
export function peakRssBytes() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}
