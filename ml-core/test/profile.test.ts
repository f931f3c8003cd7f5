import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Random } from "../src/gbdt/random";
import { readBinnedTrainingData } from "../src/train/binned-data";
import { baselineFromBins, CONSTRAINTS_FILE, mergeBins, parseStatistics, STATISTICS_FILE, type BaselineStatistics } from "../src/profile/baseline";
import { DriftMonitor, psi, PSI_SHARE_FLOOR, verdictOf } from "../src/profile/drift";
import { BIN } from "./helpers";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-core-profile-"));

interface Row {
  x: number;
  u: number;
  color: string;
  y: number;
}

/** Rows of three features: x ~ N(0, 1), u ~ U(0, 10), color in red/green/blue at 50/30/20 %; some x missing. */
function rows(n: number, seed: number, shift: { x?: number; colors?: [string, number][] } = {}): Row[] {
  const rng = new Random(seed);
  const colors = shift.colors ?? [
    ["red", 0.5],
    ["green", 0.3],
    ["blue", 0.2],
  ];
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    let p = rng.next();
    const color = colors.find(([, w]) => (p -= w) < 0)?.[0] ?? colors[colors.length - 1]![0];
    return { x: z + (shift.x ?? 0), u: rng.next() * 10, color, y: z > 0 ? 1 : 0 };
  });
}

const fmt = (v: number) => String(Math.round(v * 1e6) / 1e6);

function writeCsv(name: string, data: Row[], missingEvery = 25): string {
  const file = path.join(dir, name);
  const lines = data.map((r, i) => `${r.y},${i % missingEvery === 0 ? "" : fmt(r.x)},${fmt(r.u)},${r.color}`);
  fs.writeFileSync(file, ["y,x,u,color", ...lines].join("\n") + "\n");
  return file;
}

/** The request bodies a client would send: CSV without the label, `chunk` rows per request. */
function csvBodies(data: Row[], chunk = 50, missingEvery = 25): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) {
    const part = data.slice(i, i + chunk).map((r, k) => `${(i + k) % missingEvery === 0 ? "" : fmt(r.x)},${fmt(r.u)},${r.color}`);
    out.push(Buffer.from(part.join("\n") + "\n"));
  }
  return out;
}

const training = rows(4000, 7);
const trainFile = writeCsv("train.csv", training);

function baselineOf(file: string): BaselineStatistics {
  const { schema, mapper, table } = readBinnedTrainingData([file], "train", { labelColumn: "y", maxCategories: 255 }, 255, new Random(1));
  return baselineFromBins(schema, mapper, table).statistics;
}

const baseline = baselineOf(trainFile);

function driftOf(bodies: Buffer[], contentType = "text/csv") {
  const monitor = new DriftMonitor(baseline);
  for (const b of bodies) monitor.addRequest(b, contentType);
  return monitor.report();
}

describe("baseline statistics of the training data", () => {
  it("counts rows, missing values and categories, in Model Monitor's statistics.json layout", () => {
    expect(baseline.version).toBe(0);
    expect(baseline.dataset.item_count).toBe(4000);
    const [x, u, color] = baseline.features;
    expect(x).toMatchObject({ name: "x", inferred_type: "Fractional", numerical_statistics: { common: { num_present: 3840, num_missing: 160 } } });
    expect(u).toMatchObject({ name: "u", numerical_statistics: { common: { num_present: 4000, num_missing: 0 } } });
    if (color?.inferred_type !== "String") throw new Error("color is categorical");
    const counts = Object.fromEntries(color.string_statistics.distribution.categorical.buckets.map((b) => [b.value, b.count]));
    const expected = { red: 0, green: 0, blue: 0 } as Record<string, number>;
    for (const r of training) expected[r.color]!++;
    expect(counts).toEqual(expected);
    expect(color.string_statistics.distinct_count).toBe(3);
  });

  it("merges a numeric feature's bins into deciles whose counts are exact at their edges", () => {
    const u = baseline.features[1]!;
    if (u.inferred_type === "String") throw new Error("u is numeric");
    const buckets = u.numerical_statistics.distribution.kll.buckets;
    expect(buckets).toHaveLength(10);
    for (const b of buckets) {
      const exact = training.filter((r) => Number(fmt(r.u)) > b.lower_bound && Number(fmt(r.u)) <= b.upper_bound).length;
      expect(b.count).toBe(exact);
      expect(b.count).toBeGreaterThan(300);
      expect(b.count).toBeLessThan(500);
    }
    expect(buckets[0]!.lower_bound).toBe(-Number.MAX_VALUE);
    expect(buckets[9]!.upper_bound).toBe(Number.MAX_VALUE);
  });

  it.each([
    ["a heavy bin is a bucket of its own", [10, 80, 10], [1, 2], 100, [10, 80, 10]],
    ["light bins merge up to a decile", [5, 5, 5, 5, 80], [1, 2, 3, 4], 100, [10, 10, 80]],
    ["a constant column is one bucket", [50], [], 50, [50]],
  ])("mergeBins: %s", (_, counts, thresholds, present, expected) => {
    expect(mergeBins(Float64Array.from(counts), Float64Array.from(thresholds), present).map((b) => b.count)).toEqual(expected);
  });

  it("ml-core train writes statistics.json and constraints.json beside model.json", () => {
    const out = path.join(dir, "model");
    const r = spawnSync(process.execPath, [BIN, "train", "--train", trainFile, "--model-dir", out, "--hp", "label=y", "--hp", "num_round=3"], {
      encoding: "utf8",
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const stats = parseStatistics(fs.readFileSync(path.join(out, STATISTICS_FILE), "utf8"), STATISTICS_FILE);
    expect(stats.features.map((f) => f.name)).toEqual(["x", "u", "color"]);
    expect(stats.dataset.item_count).toBe(4000);
    const constraints = JSON.parse(fs.readFileSync(path.join(out, CONSTRAINTS_FILE), "utf8"));
    expect(constraints.features[0]).toEqual({ name: "x", inferred_type: "Fractional", completeness: 0.96 });
    expect(constraints.features[2].string_constraints.domains).toEqual(["blue", "green", "red"]);
  });

  it.each([
    ["not JSON", "{", "statistics.json: not valid JSON"],
    ["no features", '{"version":0,"dataset":{"item_count":1},"features":[]}', "statistics.json: features must be a non-empty array"],
    [
      "a bucket without a count",
      '{"version":0,"dataset":{"item_count":1},"features":[{"name":"a","inferred_type":"String","string_statistics":{"common":{"num_present":1,"num_missing":0},"distribution":{"categorical":{"buckets":[{"value":"x"}]}}}}]}',
      "statistics.json: features[0].string_statistics.distribution buckets[0].count must be a count",
    ],
  ])("parseStatistics rejects %s, naming the field", (_, text, message) => {
    expect(() => parseStatistics(text, "statistics.json")).toThrow(message);
  });
});

describe("drift of requests against the baseline (PSI)", () => {
  it("the training data itself shows no drift: every feature is stable with PSI 0", () => {
    const report = driftOf(csvBodies(training));
    expect(report.rows).toBe(4000);
    for (const f of report.features) {
      expect(f.verdict).toBe("stable");
      expect(f.psi).toBeCloseTo(0, 12);
    }
  });

  it("a fresh sample of the same population is stable", () => {
    const report = driftOf(csvBodies(rows(2000, 99)));
    expect(report.features.map((f) => f.verdict)).toEqual(["stable", "stable", "stable"]);
  });

  it("a shifted numeric feature is flagged and the others are not", () => {
    const report = driftOf(csvBodies(rows(2000, 99, { x: 1 })));
    const [x, u, color] = report.features;
    expect(x!.verdict).toBe("drift");
    expect(x!.psi).toBeGreaterThan(0.25);
    expect(u!.verdict).toBe("stable");
    expect(color!.verdict).toBe("stable");
  });

  it("a categorical shift, and categories never seen in training, are flagged", () => {
    const shifted = rows(2000, 99, {
      colors: [
        ["red", 0.2],
        ["green", 0.3],
        ["purple", 0.5],
      ],
    });
    const report = driftOf(csvBodies(shifted));
    const color = report.features[2]!;
    expect(color.verdict).toBe("drift");
    expect(color.buckets.find((b) => b.bucket === "other/unseen")!.actual).toBeGreaterThan(0.45);
    expect(report.features[0]!.verdict).toBe("stable");
  });

  it("decodes JSON, JSON lines and Open Inference Protocol requests as the server does", () => {
    const sample = training.slice(0, 3);
    const monitor = new DriftMonitor(baseline);
    expect(monitor.addRequest(Buffer.from(JSON.stringify({ instances: sample.map((r) => ({ x: r.x, u: r.u, color: r.color })) })), "application/json")).toBe(3);
    expect(monitor.addRequest(Buffer.from(sample.map((r) => JSON.stringify([r.x, r.u, r.color])).join("\n")), "application/jsonlines")).toBe(3);
    const inference = {
      inputs: [
        { name: "x", shape: [3], datatype: "FP64", data: sample.map((r) => r.x) },
        { name: "u", shape: [3], datatype: "FP64", data: sample.map((r) => r.u) },
        { name: "color", shape: [3], datatype: "BYTES", data: sample.map((r) => r.color) },
      ],
    };
    expect(monitor.addRequest(Buffer.from(JSON.stringify(inference)), "application/json")).toBe(3);
    expect(monitor.rows).toBe(9);
  });

  it("a malformed body is an error saying what is wrong, and counts nothing", () => {
    const monitor = new DriftMonitor(baseline);
    expect(() => monitor.addRequest(Buffer.from("1,2,red\nabc,2,red\n"), "text/csv")).toThrow(/row 2.*numeric/);
    expect(() => monitor.addRequest(Buffer.from("x"), "image/png")).toThrow(/unsupported content type/);
    expect(monitor.rows).toBe(0);
  });

  it.each([
    ["identical shares", [50, 50], [5, 5], 0],
    ["a known value", [50, 50], [80, 20], (0.8 - 0.5) * Math.log(0.8 / 0.5) + (0.2 - 0.5) * Math.log(0.2 / 0.5)],
    ["an empty bucket uses the floor", [100, 0], [50, 50], (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - PSI_SHARE_FLOOR) * Math.log(0.5 / PSI_SHARE_FLOOR)],
  ])("psi: %s", (_, e, a, expected) => {
    expect(psi(e, a)).toBeCloseTo(expected, 12);
  });

  it.each([
    [0.05, 1000, "stable"],
    [0.1, 1000, "moderate"],
    [0.25, 1000, "moderate"],
    [0.26, 1000, "drift"],
    [0.9, 199, "too few rows"],
  ] as const)("verdict of PSI %s over %s rows: %s", (value, n, verdict) => {
    expect(verdictOf(value, n, 200)).toBe(verdict);
  });
});
