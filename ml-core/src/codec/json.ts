/**
 * JSON and JSON-lines request bodies → encoded rows.
 *
 * An instance is an array of values in training order, an object keyed by feature name (absent
 * keys are missing values), or `{"features": [...]}` (the shape SageMaker's built-in algorithms
 * use). `application/json` carries `{"instances": [...]}` or a bare array of instances;
 * `application/jsonlines` carries one instance per line.
 */
import { HttpError, badRow } from "./errors";
import type { FeatureSchema, RowSource } from "./rows";

const LF = 10;

type Cell = string | number | boolean | null;

/** Rows from already-parsed instances; `rowOf(i)` is the row number used in messages. */
export class InstanceRows implements RowSource {
  private i = 0;

  constructor(
    private readonly instances: readonly unknown[],
    private readonly schema: FeatureSchema,
    private readonly firstRow = 1,
  ) {}

  next(x: Float64Array, maxRows: number): number {
    const { schema, instances } = this;
    const nFeatures = schema.nFeatures;
    let rows = 0;
    while (rows < maxRows && this.i < instances.length) {
      encodeInstance(instances[this.i], this.firstRow + this.i, schema, x, rows * nFeatures);
      this.i++;
      rows++;
    }
    return rows;
  }
}

/** Parses an `application/json` body into its instances. */
export function jsonInstances(body: Buffer): unknown[] {
  const doc = parseJson(body.toString("utf8"), "request body");
  if (Array.isArray(doc)) return doc;
  if (doc !== null && typeof doc === "object" && "instances" in doc) {
    const instances = (doc as { instances: unknown }).instances;
    if (Array.isArray(instances)) return instances;
    throw new HttpError(400, `"instances" must be an array of instances, got ${typeName(instances)}`);
  }
  throw new HttpError(400, `expected {"instances": [...]} or an array of instances, got ${typeName(doc)}`);
}

/**
 * JSON lines, read a slice at a time: each line is parsed only when its row is needed, so a large
 * batch payload never exists as one parsed document. Blank lines are skipped.
 */
export class JsonLinesRows implements RowSource {
  private pos: number;
  /** Number of the next line (1-based). */
  row: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly schema: FeatureSchema,
    firstRow = 1,
  ) {
    this.pos = start;
    this.row = firstRow;
  }

  next(x: Float64Array, maxRows: number): number {
    const { buf, end, schema } = this;
    let rows = 0;
    while (rows < maxRows && this.pos < end) {
      let lf = buf.indexOf(LF, this.pos);
      if (lf < 0 || lf > end) lf = end;
      const text = buf.toString("utf8", this.pos, lf);
      this.pos = lf + 1;
      const row = this.row++;
      if (text.trim() === "") continue;
      encodeInstance(parseJson(text, `row ${row}`), row, schema, x, rows * schema.nFeatures);
      rows++;
    }
    return rows;
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function encodeInstance(instance: unknown, row: number, schema: FeatureSchema, x: Float64Array, base: number): void {
  const nFeatures = schema.nFeatures;
  let values: unknown = instance;
  if (instance !== null && typeof instance === "object" && !Array.isArray(instance)) {
    const obj = instance as Record<string, unknown>;
    // {"features": [...]} unless the model really has a feature named "features".
    if (Array.isArray(obj.features) && !schema.indexOf.has("features") && Object.keys(obj).length === 1) {
      values = obj.features;
    } else {
      for (let j = 0; j < nFeatures; j++) x[base + j] = NaN;
      for (const key of Object.keys(obj)) {
        const j = schema.indexOf.get(key);
        if (j === undefined) throw badRow(row, `unknown feature ${JSON.stringify(key)}; the model expects ${schema.describe()}`);
        x[base + j] = schema.encode(row, j, cell(obj[key], row, j, schema));
      }
      return;
    }
  }
  if (!Array.isArray(values)) {
    throw badRow(row, `expected an array of ${nFeatures} values or an object keyed by feature name, got ${typeName(values)}`);
  }
  if (values.length !== nFeatures) {
    throw badRow(row, `expected ${schema.describe()}, found ${values.length} value${values.length === 1 ? "" : "s"}`);
  }
  for (let j = 0; j < nFeatures; j++) x[base + j] = schema.encode(row, j, cell(values[j], row, j, schema));
}

function cell(value: unknown, row: number, j: number, schema: FeatureSchema): Cell {
  if (value === null || typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  throw badRow(row, `expected a number, string, boolean or null, got ${typeName(value)}`, { index: j, name: schema.names[j]! });
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
