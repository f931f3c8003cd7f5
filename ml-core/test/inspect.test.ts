/** Feature importance in model.json and `ml-core inspect` (text and --json). */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { describeModel } from "../src/model/importance";
import { saveModel } from "../src/model/save";
import { BIN, lcg, tmpDir, toCsv, writeFile } from "./helpers";
import { ensureBuilt } from "./server-helpers";
import { trainFiles } from "./train-helpers";

beforeAll(() => ensureBuilt(), 120_000);

describe("feature importance", () => {
  const rand = lcg(31);
  // y depends strongly on `strong`, a little on `weak`, not at all on `noise`.
  const rows = Array.from({ length: 2000 }, () => {
    const strong = rand();
    const weak = rand();
    return { y: strong + 0.1 * weak > 0.55 ? 1 : 0, noise: rand(), weak, strong };
  });
  const file = writeFile(path.join(tmpDir(), "train.csv"), toCsv(rows));
  const t = trainFiles([file], { label: "y", num_round: "20" });

  it("is written into model.json per feature: the sum of its splits' gains and their count", () => {
    const fi = t.model.featureImportance ?? [];
    expect(fi.map((f) => f.name)).toEqual(["noise", "weak", "strong"]);
    for (const [i, f] of fi.entries()) {
      const nodes = t.model.trees.flatMap((tree) => tree.feature.map((feature, n) => ({ feature, gain: tree.gain[n]! })).filter((n) => n.feature === i));
      expect(f.splits).toBe(nodes.length);
      expect(f.gain).toBeCloseTo(
        nodes.reduce((s, n) => s + n.gain, 0),
        9,
      );
    }
    const byName = Object.fromEntries(fi.map((f) => [f.name, f]));
    expect(byName.strong!.gain).toBeGreaterThan(10 * byName.weak!.gain);
    expect(byName.weak!.gain).toBeGreaterThan(byName.noise!.gain);
  });

  it("ml-core inspect prints it by gain, and --json gives the same description as the library", () => {
    const dir = tmpDir();
    saveModel(dir, t.model);
    const json = spawnSync(process.execPath, [BIN, "inspect", "--model-dir", dir, "--json"], { encoding: "utf8" });
    expect(json.status).toBe(0);
    const described = JSON.parse(json.stdout);
    expect(described).toEqual(JSON.parse(JSON.stringify(describeModel(t.model))));
    expect(described.importance.map((f: { name: string }) => f.name)).toEqual(["strong", "weak", "noise"]);
    expect(described.importance.reduce((s: number, f: { gainShare: number }) => s + f.gainShare, 0)).toBeCloseTo(1, 12);

    const text = spawnSync(process.execPath, [BIN, "inspect", "--model-dir", dir], { encoding: "utf8" });
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("objective binary");
    expect(text.stdout).toMatch(/^strong +numeric +\S+ +\d+\.\d +\d+ +\d+\.\d$/m);
    expect(text.stdout.indexOf("\nstrong")).toBeLessThan(text.stdout.indexOf("\nnoise"));
  });

  it("inspect computes importance from the trees for a model.json written without it, and names a missing model", () => {
    const dir = tmpDir();
    const { featureImportance: _, ...old } = t.model;
    fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(old));
    expect(describeModel(old).importance).toEqual(describeModel(t.model).importance);
    const r = spawnSync(process.execPath, [BIN, "inspect", "--model-dir", path.join(dir, "nowhere")], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ml-core: error: cannot read model .*nowhere.*model\.json: no such file/);
  });
});
