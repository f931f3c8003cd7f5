/**
 * Real model directories for the serving tests, written through the model format's own `saveModel`
 * and read back by `loadPredictor`: seeded random trees over numeric and categorical features.
 * (They exercise the shipped predictor and loader; what the trees mean does not matter here.)
 */
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type FeatureSchema, type ModelJson, type TreeJson } from "../src/model/format";
import type { Objective } from "../src/model/predictor";
import { saveModel } from "../src/model/save";
import { rng } from "./server-helpers";

export interface TestModelOptions {
  objective?: Objective;
  trees?: number;
  depth?: number;
  /** Numeric features x0, x1, ...; then one categorical feature "color" (red, green, blue). */
  numeric?: number;
  /** Whether the "color" feature is there. @default true */
  categorical?: boolean;
  seed?: number;
}

export const COLORS = ["red", "green", "blue"];

export function testModel(opts: TestModelOptions = {}): ModelJson {
  const objective = opts.objective ?? "binary";
  const nNumeric = opts.numeric ?? 4;
  const depth = opts.depth ?? 3;
  const rand = rng(opts.seed ?? 1);
  const features: FeatureSchema[] = [
    ...Array.from({ length: nNumeric }, (_, i) => ({ name: `x${i}`, kind: "numeric" as const })),
    ...(opts.categorical === false ? [] : [{ name: "color", kind: "categorical" as const, categories: COLORS }]),
  ];
  const classes = objective === "binary" ? ["no", "yes"] : objective === "multiclass" ? ["a", "b", "c"] : null;
  const nOut = objective === "multiclass" ? 3 : 1;
  const trees: TreeJson[] = [];
  for (let t = 0; t < (opts.trees ?? 10); t++) {
    const tree = {
      output: t % nOut,
      feature: [] as number[],
      threshold: [] as (number | null)[],
      categoriesLeft: [] as (number[] | null)[],
      missingLeft: [] as number[],
      left: [] as number[],
      right: [] as number[],
      value: [] as number[],
      count: [] as number[],
      gain: [] as number[],
    };
    // Breadth-first complete tree: children always follow their parent.
    const nInternal = 2 ** depth - 1;
    const nNodes = 2 ** (depth + 1) - 1;
    for (let i = 0; i < nNodes; i++) {
      const internal = i < nInternal;
      const f = internal ? Math.floor(rand() * features.length) : -1;
      tree.feature.push(f);
      tree.threshold.push(internal && f < nNumeric ? Math.round((rand() * 100 - 50) * 100) / 100 : null);
      tree.categoriesLeft.push(internal && f === nNumeric ? [Math.floor(rand() * 3)] : null);
      tree.missingLeft.push(internal && rand() < 0.5 ? 1 : 0);
      tree.left.push(internal ? 2 * i + 1 : 0);
      tree.right.push(internal ? 2 * i + 2 : 0);
      tree.value.push(internal ? 0 : Math.round((rand() - 0.5) * 1000) / 10000);
      tree.count.push(1);
      tree.gain.push(0);
    }
    trees.push(tree);
  }
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    objective,
    label: "y",
    classes,
    features,
    baseline: Array.from({ length: nOut }, () => 0.1),
    trees,
    hyperparameters: {},
    training: {
      dataHash: "sha256:0",
      trainRows: 0,
      validationRows: 0,
      rounds: trees.length,
      roundsRun: trees.length,
      stoppedEarly: false,
      mlCoreVersion: "test",
    },
    metrics: {},
  };
}

export function writeTestModel(dir: string, opts: TestModelOptions = {}): ModelJson {
  const model = testModel(opts);
  saveModel(dir, model);
  return model;
}

/** `n` seeded CSV rows for a test model: numeric values in [-60, 60), some missing, and a color. */
export function testRows(n: number, nNumeric = 4, seed = 2, categorical = true): string[] {
  const rand = rng(seed);
  return Array.from({ length: n }, () => {
    const cells = Array.from({ length: nNumeric }, () => (rand() < 0.05 ? "" : String(Math.round((rand() * 120 - 60) * 1000) / 1000)));
    if (categorical) cells.push(COLORS[Math.floor(rand() * 3)]);
    return cells.join(",");
  });
}
