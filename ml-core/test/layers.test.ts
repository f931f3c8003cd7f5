import * as fs from "node:fs";
import * as path from "node:path";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import { describe, expect, it } from "vitest";
import { tmpDir, writeFile } from "./helpers";

const ML_CORE = path.join(__dirname, "..");
const config = require("../.dependency-cruiser.cjs") as { forbidden: unknown[] };
const { LAYERS, layeringRules } = require("../layers.cjs") as { LAYERS: string[][]; layeringRules: (layers: string[][]) => unknown[] };

/** The rule violations dependency-cruiser finds in `dir`'s src/, as "rule: from → to" lines. */
async function violations(dir: string, forbidden: unknown[]): Promise<string[]> {
  const options = { baseDir: dir, validate: true, ruleSet: { forbidden } as never, tsPreCompilationDeps: true, doNotFollow: { path: "node_modules" } };
  const { output } = await cruise(["src"], options, { extensions: [".ts", ".js"] });
  const result = output as ICruiseResult;
  expect(result.modules.length).toBeGreaterThan(1);
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(" → ")})` : ""}`);
}

describe("the layering of src/ (rooms and their order in layers.cjs)", () => {
  it("has no cycle and no import from a room to one above it or beside it", async () => {
    expect(await violations(ML_CORE, config.forbidden)).toEqual([]);
  });

  it("places every folder of src/ in a room", () => {
    const folders = fs
      .readdirSync(path.join(ML_CORE, "src"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.sort()).toEqual(LAYERS.flat().sort());
  });

  it("catches an upward import, an import beside, and a cycle", async () => {
    const dir = tmpDir();
    writeFile(path.join(dir, "src/data/table.ts"), 'import { grow } from "../gbdt/grower";\nexport const read = (): number => grow();\n');
    writeFile(path.join(dir, "src/gbdt/grower.ts"), 'import { read } from "../data/table";\nexport const grow = (): number => read();\n');
    writeFile(path.join(dir, "src/eval/metrics.ts"), 'import type { Model } from "../model/format";\nexport type M = Model;\n');
    writeFile(path.join(dir, "src/model/format.ts"), "export type Model = number;\n");
    const found = await violations(dir, [config.forbidden[0], ...layeringRules([["data"], ["gbdt"], ["eval", "model"]])]);
    expect(found).toEqual(
      expect.arrayContaining([
        "no-circular: src/data/table.ts → src/gbdt/grower.ts (src/gbdt/grower.ts → src/data/table.ts)",
        "data-imports-upward: src/data/table.ts → src/gbdt/grower.ts",
        "eval-imports-upward: src/eval/metrics.ts → src/model/format.ts",
      ]),
    );
    expect(found).not.toContain(expect.stringMatching(/^gbdt-imports-upward/));
  });
});
