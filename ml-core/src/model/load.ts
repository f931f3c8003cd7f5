/**
 * Reading a model directory. The file is checked before use: a model that loads is one the
 * predictor can score without further checks (node references in range, codes within the bitset).
 * A directory without model.json but with SageMaker XGBoost's artifact (`xgboost-model`, JSON or
 * UBJSON) is converted at load (model/xgboost.ts), so the ml-core image serves it as it is.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ChainPredictor } from "./chain-predictor";
import { MAX_CATEGORY_CODE } from "./flat-predictor";
import { MODEL_FILE, MODEL_FORMAT, MODEL_FORMAT_VERSION, outputCount, type ModelJson } from "./format";
import { modelIdentity } from "./identity";
import type { Predictor } from "./predictor";
import { modelFromXgboost, XGBOOST_MODEL_FILE } from "./xgboost";
import { XgboostModelError } from "../import/xgboost";

export class ModelFormatError extends Error {
  override readonly name = "ModelFormatError";
}

/** Reads and checks `<modelDir>/model.json`, or converts `<modelDir>/xgboost-model` when there is no model.json. */
export function loadModel(modelDir: string): ModelJson {
  return readModelDir(modelDir).model;
}

/**
 * Loads the model in `modelDir` as a ready-to-score predictor: the chained walk, which gives
 * FlatPredictor's results bit for bit, faster, and hands it the models it cannot take.
 */
export function loadPredictor(modelDir: string): ChainPredictor {
  return new ChainPredictor(loadModel(modelDir));
}

/** A predictor and the identity of the file it was loaded from (`model-sha256=<hex>`). */
export interface ServedModel {
  readonly predictor: Predictor;
  readonly identity: string;
}

/** `loadPredictor`, with the identity of the very bytes it parsed (the file is read once). */
export function loadServedModel(modelDir: string): ServedModel {
  const { model, bytes } = readModelDir(modelDir);
  return { predictor: new ChainPredictor(model), identity: modelIdentity(bytes) };
}

/** The model of a directory and the bytes of the file it came from (read once). */
function readModelDir(modelDir: string): { model: ModelJson; bytes: Buffer } {
  const file = path.join(modelDir, MODEL_FILE);
  const bytes = readIfExists(file);
  if (bytes !== undefined) return { model: parseModel(bytes.toString("utf8"), file), bytes };
  const xgboostFile = path.join(modelDir, XGBOOST_MODEL_FILE);
  const xgboostBytes = readIfExists(xgboostFile);
  if (xgboostBytes === undefined) throw new ModelFormatError(`cannot read model ${file}: no such file (nor an XGBoost model ${XGBOOST_MODEL_FILE} beside it)`);
  return { model: checkedXgboostModel(xgboostBytes, xgboostFile), bytes: xgboostBytes };
}

/** An XGBoost model file converted and held to the same checks as a model.json. */
export function checkedXgboostModel(bytes: Uint8Array, source: string): ModelJson {
  let model: ModelJson;
  try {
    model = modelFromXgboost(bytes, source);
  } catch (e) {
    if (e instanceof XgboostModelError) throw new ModelFormatError(e.message);
    throw e;
  }
  const problems = checkModel(model as unknown as Record<string, unknown>);
  if (problems.length > 0) throw new ModelFormatError(`${source} converts to an invalid model:\n  ${problems.slice(0, 20).join("\n  ")}`);
  return model;
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new ModelFormatError(`cannot read model ${file}: ${String(e)}`);
  }
}

/** Parses and checks model JSON text; `source` names the file in error messages. */
export function parseModel(text: string, source = MODEL_FILE): ModelJson {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc) || doc.format !== MODEL_FORMAT) {
    throw new ModelFormatError(`${source} is not an ml-core model (expected "format": "${MODEL_FORMAT}")`);
  }
  if (doc.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(`${source} has formatVersion ${JSON.stringify(doc.formatVersion)}; this ml-core reads version ${MODEL_FORMAT_VERSION} only`);
  }
  const problems = checkModel(doc);
  if (problems.length > 0) {
    throw new ModelFormatError(`${source} is not a valid model:\n  ${problems.slice(0, 20).join("\n  ")}`);
  }
  return doc as unknown as ModelJson;
}

function checkModel(m: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const objective = m.objective;
  if (objective !== "binary" && objective !== "multiclass" && objective !== "regression") {
    problems.push(`objective ${JSON.stringify(objective)} is not one of binary, multiclass, regression`);
    return problems;
  }
  const classes = m.classes;
  if (objective === "regression" ? classes !== null : !isStringArray(classes)) {
    problems.push(`classes must be ${objective === "regression" ? "null for regression" : "an array of strings"}`);
  } else if (objective === "binary" && (classes as string[]).length !== 2) {
    problems.push(`classes: binary needs exactly 2, got ${(classes as string[]).length}`);
  } else if (objective === "multiclass" && (classes as string[]).length < 2) {
    problems.push(`classes: multiclass needs at least 2`);
  }
  if (!Array.isArray(m.features) || m.features.length === 0) {
    problems.push("features must be a non-empty array");
    return problems;
  }
  const nCategories: (number | undefined)[] = [];
  m.features.forEach((f: unknown, i) => {
    if (!isObject(f) || typeof f.name !== "string") problems.push(`features[${i}] needs a name`);
    else if (f.kind === "numeric") nCategories.push(undefined);
    else if (f.kind === "categorical" && isStringArray(f.categories) && f.categories.length <= MAX_CATEGORY_CODE + 1) nCategories.push(f.categories.length);
    else problems.push(`features[${i}] (${String(f.name)}): kind must be numeric, or categorical with at most ${MAX_CATEGORY_CODE + 1} categories`);
  });
  if (problems.length > 0) return problems;
  const nOut = outputCount(objective, classes as string[] | null);
  if (!isNumberArray(m.baseline) || m.baseline.length !== nOut) problems.push(`baseline must hold ${nOut} number(s)`);
  if (!Array.isArray(m.trees)) {
    problems.push("trees must be an array");
    return problems;
  }
  m.trees.forEach((t: unknown, ti) => problems.push(...checkTree(t, ti, nCategories, nOut)));
  if (!isObject(m.hyperparameters)) problems.push("hyperparameters must be an object");
  if (!isObject(m.training)) problems.push("training must be an object");
  if (!isObject(m.metrics)) problems.push("metrics must be an object");
  const fi = m.featureImportance;
  if (
    fi !== undefined &&
    (!Array.isArray(fi) ||
      fi.length !== m.features.length ||
      !fi.every((f: unknown) => isObject(f) && typeof f.gain === "number" && typeof f.splits === "number"))
  ) {
    problems.push(`featureImportance must hold, per feature (${m.features.length}), its gain and splits`);
  }
  return problems;
}

function checkTree(t: unknown, ti: number, nCategories: (number | undefined)[], nOut: number): string[] {
  const where = `trees[${ti}]`;
  if (!isObject(t)) return [`${where} is not an object`];
  const fields = ["feature", "threshold", "categoriesLeft", "missingLeft", "left", "right", "value", "count", "gain"] as const;
  const n = Array.isArray(t.feature) ? t.feature.length : -1;
  if (n < 1) return [`${where}.feature must be a non-empty array`];
  for (const k of fields) {
    const a = t[k];
    if (!Array.isArray(a) || a.length !== n) return [`${where}.${k} must be an array of ${n} entries`];
  }
  if (!Number.isInteger(t.output) || (t.output as number) < 0 || (t.output as number) >= nOut) return [`${where}.output must be an integer in 0-${nOut - 1}`];
  const feature = t.feature as unknown[];
  const threshold = t.threshold as unknown[];
  const cats = t.categoriesLeft as unknown[];
  const left = t.left as unknown[];
  const right = t.right as unknown[];
  const value = t.value as unknown[];
  for (let i = 0; i < n; i++) {
    const f = feature[i];
    if (f === -1) {
      if (typeof value[i] !== "number" || !Number.isFinite(value[i])) return [`${where} node ${i}: leaf value must be a finite number`];
      continue;
    }
    if (!Number.isInteger(f) || (f as number) < 0 || (f as number) >= nCategories.length)
      return [`${where} node ${i}: feature ${JSON.stringify(f)} out of range`];
    // Children must come after their parent: the predictor's walk then always ends (no cycles).
    for (const [side, c] of [
      ["left", left[i]],
      ["right", right[i]],
    ] as const) {
      if (!Number.isInteger(c) || (c as number) <= i || (c as number) >= n)
        return [`${where} node ${i}: ${side} child ${JSON.stringify(c)} must be a later node of the same tree`];
    }
    const nCat = nCategories[f as number];
    if (nCat === undefined) {
      if (typeof threshold[i] !== "number") return [`${where} node ${i}: numeric split needs a numeric threshold`];
    } else {
      const c = cats[i];
      if (!isNumberArray(c) || c.some((code) => !Number.isInteger(code) || code < 0 || code >= nCat)) {
        return [`${where} node ${i}: categoriesLeft must list category codes in 0-${nCat - 1}`];
      }
    }
  }
  return [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}
function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}
