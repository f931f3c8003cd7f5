/**
 * The Open Inference Protocol's REST JSON (KServe's "V2 inference protocol", also spoken by
 * Triton, MLServer, Seldon Core 2 and TorchServe) for a tabular model: request tensors → encoded
 * rows, predictions → response tensors, and the model metadata that tells a client what to send.
 * Field names, datatypes and shapes follow the protocol's REST spec:
 * https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/ (the text is
 * kserve/kserve docs/predict-api/v2/required_api.md).
 *
 * Inputs, as GET /v2/models/{name} lists them: one tensor per feature, named after it, of shape
 * [N] or [N, 1]; FP64 for a numeric feature, BYTES (JSON strings) for a categorical one. That is
 * the layout of MLServer's and KServe's pandas codecs (one input per DataFrame column), and it is
 * the only way to send categories: a tensor has one datatype, so one [N, F] tensor cannot mix
 * numbers and category names. For clients that send one matrix (KServe's scikit-learn and XGBoost
 * examples), the numeric features may instead come together as one [N, k] tensor, k = the numeric
 * features in the listed order, under any name that is no feature's; categorical features then
 * come beside it as their own tensors.
 *
 * Every value goes through the predictor's `encode`, as /invocations' JSON values do, so a row
 * scores to the same bits on both routes. A null element is a missing value (JSON has no NaN);
 * an FP32 element is used as written, not rounded to single precision, for the same reason.
 */
import type { Predictor } from "../model/predictor";
import { HttpError } from "./errors";
import { argmax, jsonNumber, PREDICTION_FIELD as OUTPUT } from "./format";
import type { FeatureSchema, RowSource } from "./rows";
import type { RowCount, Scorer } from "./scoring";

/** The spec's "Tensor Data Types" table. */
export const DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"] as const;
export type Datatype = (typeof DATATYPES)[number];

/** Ranges of the integer datatypes; 64-bit bounds as doubles (JSON numbers are doubles). */
const INTEGER_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, 2 ** 64],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [-(2 ** 63), 2 ** 63],
};

/** `$metadata_tensor`, with MLServer's optional `parameters`. */
export interface MetadataTensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
}

/** `$metadata_model_response`. */
export interface ModelMetadata {
  readonly name: string;
  readonly versions?: readonly string[];
  readonly platform: string;
  readonly inputs: readonly MetadataTensor[];
  readonly outputs: readonly MetadataTensor[];
}

/** The served model as the protocol names it. */
export interface ModelRef {
  readonly name: string;
  /** The model's identity (`model-sha256=<hex>`); undefined when the server has none. */
  readonly version: string | undefined;
}

/** The class labels whose probabilities a model outputs, in order; empty for regression. */
function classesOf(predictor: Predictor): readonly string[] {
  return predictor.objective === "regression" ? [] : (predictor.classes ?? []);
}

/** What GET /v2/models/{name} answers: the inputs to send and the outputs to expect. */
export function modelMetadata(predictor: Predictor, model: ModelRef): ModelMetadata {
  const classes = classesOf(predictor);
  const outputs: MetadataTensor[] =
    classes.length === 0
      ? [{ name: OUTPUT.score, datatype: "FP64", shape: [-1] }]
      : [
          { name: OUTPUT.label, datatype: "BYTES", shape: [-1] },
          // $parameter values are scalars, so the column order is one key per class.
          {
            name: OUTPUT.probabilities,
            datatype: "FP64",
            shape: [-1, classes.length],
            parameters: Object.fromEntries(classes.map((c, k) => [`class_${k}`, c])),
          },
        ];
  return {
    name: model.name,
    ...(model.version === undefined ? {} : { versions: [model.version] }),
    // "<project>_<format>", as the spec names platforms.
    platform: "ml-core_gbdt",
    inputs: predictor.features.map((f) => ({ name: f.name, datatype: f.kind === "numeric" ? "FP64" : "BYTES", shape: [-1] })),
    outputs,
  };
}

/** Where one feature's values are in the request: `values[offset + row * stride]`. */
interface ColumnSource {
  readonly input: string;
  readonly datatype: Datatype;
  readonly values: readonly unknown[];
  readonly offset: number;
  readonly stride: number;
  /** Whether the tensor is 2-D, for the element index in messages. */
  readonly matrix: boolean;
}

/** A parsed `$inference_request`, checked against the model's features. */
export interface InferenceRequest {
  readonly id: string | undefined;
  readonly rows: number;
  /** The output tensors to return, in order. */
  readonly outputs: readonly string[];
  /** The rows, encoded a slice at a time (element errors surface here, as 400s). */
  readonly source: RowSource;
}

/**
 * Parses and checks an inference request body. Throws a 400 naming the input and what was
 * expected: the tensor's shape, its datatype, its element count.
 */
export function parseInferenceRequest(body: Buffer, schema: FeatureSchema): InferenceRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw bad(`request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw bad(`expected an inference request object {"inputs": [...]}, got ${typeName(doc)}`);
  const { id, inputs, outputs, parameters } = doc;
  if (id !== undefined && typeof id !== "string") throw bad(`"id" must be a string, got ${typeName(id)}`);
  if (parameters !== undefined && !isObject(parameters)) throw bad(`"parameters" must be an object, got ${typeName(parameters)}`);
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad(`"inputs" must be a non-empty array of input tensors; ${expectedInputs(schema)}`);

  const nFeatures = schema.nFeatures;
  const numericFeatures = schema.names.filter((_, j) => schema.numeric[j] === 1);
  const columns: (ColumnSource | undefined)[] = new Array<ColumnSource | undefined>(nFeatures).fill(undefined);
  const seen = new Set<string>();
  let rows: number | undefined;
  let rowsFrom = "";
  let matrixName: string | undefined;

  inputs.forEach((input: unknown, i) => {
    if (!isObject(input)) throw bad(`inputs[${i}] must be an object {name, shape, datatype, data}, got ${typeName(input)}`);
    const { name, shape, datatype, data } = input;
    if (typeof name !== "string") throw bad(`inputs[${i}].name must be a string, got ${typeName(name)}`);
    const what = `input ${JSON.stringify(name)}`;
    if (seen.has(name)) throw bad(`${what} is given twice`);
    seen.add(name);
    if (typeof datatype !== "string" || !(DATATYPES as readonly string[]).includes(datatype)) {
      throw bad(`${what}: datatype ${JSON.stringify(datatype)} is not one of ${DATATYPES.join(", ")}`);
    }
    if (input.parameters !== undefined && !isObject(input.parameters)) throw bad(`${what}: "parameters" must be an object, got ${typeName(input.parameters)}`);
    const dims = checkShape(what, shape);
    const j = schema.indexOf.get(name);
    let expected: string;
    if (j !== undefined) {
      expected = `[N] or [N, 1]`;
      if (dims.length === 2 ? dims[1] !== 1 : dims.length !== 1)
        throw bad(`${what}: shape ${shapeText(dims)} is not ${expected} (one value per row for feature ${JSON.stringify(name)})`);
    } else {
      if (numericFeatures.length === 0 || dims.length !== 2 || matrixName !== undefined) {
        throw bad(`unknown ${what} with shape ${shapeText(dims)}; ${expectedInputs(schema)}`);
      }
      expected = `[N, ${numericFeatures.length}]`;
      if (dims[1] !== numericFeatures.length) {
        throw bad(
          `${what}: shape ${shapeText(dims)} is not ${expected}: a tensor not named after a feature holds the ${numericFeatures.length} numeric features (${listed(numericFeatures)}) in that order`,
        );
      }
      matrixName = name;
    }
    const n = dims[0]!;
    if (rows === undefined) {
      rows = n;
      rowsFrom = what;
    } else if (n !== rows) {
      throw bad(`${what} has ${n} rows (shape ${shapeText(dims)}) but ${rowsFrom} has ${rows}: every input holds the same rows`);
    }
    const values = flatten(what, data, dims, expected);
    const type = datatype as Datatype;
    if (j !== undefined) {
      const other = columns[j];
      if (other !== undefined) throw bad(`feature ${JSON.stringify(name)} is given twice: by ${what} and by input ${JSON.stringify(other.input)}`);
      columns[j] = { input: name, datatype: type, values, offset: 0, stride: 1, matrix: false };
    } else {
      const k = numericFeatures.length;
      numericFeatures.forEach((f, c) => {
        const jf = schema.indexOf.get(f)!;
        const other = columns[jf];
        if (other !== undefined) throw bad(`feature ${JSON.stringify(f)} is given twice: by ${what} and by input ${JSON.stringify(other.input)}`);
        columns[jf] = { input: name, datatype: type, values, offset: c, stride: k, matrix: true };
      });
    }
  });
  const missing = schema.names.filter((_, j) => columns[j] === undefined);
  if (missing.length > 0) {
    throw bad(
      `missing input${missing.length === 1 ? "" : "s"} ${missing.map((m) => `${JSON.stringify(m)} (${schema.numeric[schema.indexOf.get(m)!] === 1 ? "FP64" : "BYTES"} [N])`).join(", ")}; ${expectedInputs(schema)}`,
    );
  }
  if (rows === 0) throw bad("the request holds no rows (N = 0)");

  return { id, rows: rows ?? 0, outputs: requestedOutputs(outputs, schema.predictor), source: new TensorRows(columns as ColumnSource[], rows ?? 0, schema) };
}

/** The output names a request asks for (all when it names none), checked against the model's. */
function requestedOutputs(outputs: unknown, predictor: Predictor): string[] {
  const available: string[] = classesOf(predictor).length === 0 ? [OUTPUT.score] : [OUTPUT.label, OUTPUT.probabilities];
  if (outputs === undefined) return available;
  if (!Array.isArray(outputs)) throw bad(`"outputs" must be an array of {"name": ...}, got ${typeName(outputs)}`);
  if (outputs.length === 0) return available;
  const names: string[] = [];
  outputs.forEach((o: unknown, i) => {
    const name = isObject(o) ? o.name : undefined;
    if (typeof name !== "string") throw bad(`outputs[${i}] must be an object with a string "name"`);
    if (!available.includes(name)) throw bad(`unknown output ${JSON.stringify(name)}; the model's outputs are ${listed(available)}`);
    if (names.includes(name)) throw bad(`output ${JSON.stringify(name)} is requested twice`);
    names.push(name);
  });
  return names;
}

/**
 * The request's tensors as rows, encoded a slice at a time like the other formats' rows, so the
 * scorer drives them the same way.
 */
class TensorRows implements RowSource {
  private row = 0;

  constructor(
    private readonly columns: readonly ColumnSource[],
    private readonly nRows: number,
    private readonly schema: FeatureSchema,
  ) {}

  next(x: Float64Array, maxRows: number): number {
    const { columns, schema } = this;
    const nFeatures = schema.nFeatures;
    const first = this.row;
    const n = Math.min(maxRows, this.nRows - first);
    for (let j = 0; j < nFeatures; j++) {
      const col = columns[j]!;
      // The shortcut the CSV parser takes: a finite number is its own code for a numeric feature.
      const numbersAsIs = schema.finiteNumbersEncodeAsThemselves && schema.numeric[j] === 1;
      for (let r = 0; r < n; r++) {
        const v = col.values[col.offset + (first + r) * col.stride];
        const problem = elementProblem(col.datatype, v);
        if (problem !== undefined) throw bad(`${where(col, first + r)}: ${problem}`);
        if (numbersAsIs && typeof v === "number" && Number.isFinite(v)) {
          x[r * nFeatures + j] = v;
          continue;
        }
        try {
          x[r * nFeatures + j] = schema.predictor.encode(j, v as string | number | boolean | null);
        } catch (e) {
          if (e instanceof RangeError) throw bad(`${where(col, first + r)}: ${e.message}`);
          throw e;
        }
      }
    }
    this.row += n;
    return n;
  }
}

/** "input "x" element [3]" or "[3, 1]": the element of the tensor as the client wrote it. */
function where(col: ColumnSource, row: number): string {
  return `input ${JSON.stringify(col.input)} element [${col.matrix ? `${row}, ${col.offset}` : row}]`;
}

/** Why `v` is not an element of a `datatype` tensor, or undefined. null is a missing value. */
function elementProblem(datatype: Datatype, v: unknown): string | undefined {
  if (v === null) return undefined;
  switch (datatype) {
    case "BYTES":
      return typeof v === "string" ? undefined : `expected a string (BYTES), got ${typeName(v)}`;
    case "BOOL":
      return typeof v === "boolean" ? undefined : `expected true or false (BOOL), got ${typeName(v)}`;
    case "FP16":
    case "FP32":
    case "FP64":
      return typeof v === "number" ? undefined : `expected a number (${datatype}), got ${typeName(v)}`;
    default: {
      const [lo, hi] = INTEGER_RANGE[datatype]!;
      return typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi
        ? undefined
        : `expected an integer from ${lo} to ${hi} (${datatype}), got ${typeof v === "number" ? String(v) : typeName(v)}`;
    }
  }
}

/** A shape's dimensions: one or two unsigned integers (the spec's uint64, within a double's exact range). */
function checkShape(what: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > 2 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(`${what}: shape ${JSON.stringify(shape)?.slice(0, 80) ?? "(none)"} must be [N] or [N, k] with whole numbers >= 0`);
  }
  return shape as number[];
}

/**
 * The tensor's elements in row-major order, from either of the spec's layouts: flat, or nested
 * as the shape ("natural multi-dimensional representation"). The counts are checked against the
 * shape before anything is allocated, so a huge declared dimension costs nothing.
 */
function flatten(what: string, data: unknown, dims: readonly number[], expected: string): unknown[] {
  if (!Array.isArray(data)) throw bad(`${what}: "data" must be an array, got ${typeName(data)}`);
  const n = dims[0]!;
  const k = dims.length === 2 ? dims[1]! : 1;
  const total = n * k;
  if (dims.length === 2 && data.length === n && n > 0 && Array.isArray(data[0])) {
    const flat: unknown[] = [];
    data.forEach((row: unknown, r) => {
      if (!Array.isArray(row) || row.length !== k)
        throw bad(`${what}: data[${r}] must be an array of ${k} element${k === 1 ? "" : "s"} (shape ${shapeText(dims)})`);
      for (const v of row) flat.push(v);
    });
    return flat;
  }
  if (data.length !== total) {
    throw bad(`${what}: shape ${shapeText(dims)} holds ${total} element${total === 1 ? "" : "s"}, but "data" has ${data.length}; expected shape ${expected}`);
  }
  return data;
}

/**
 * Scores a parsed request and yields the `$inference_response` JSON. Yields an empty chunk after
 * each slice of rows (a point where the server may serve others), then the whole response: the
 * response is tensor by tensor, so no part of it is final before the last row.
 */
export function* inferenceResponse(
  scorer: Scorer,
  request: InferenceRequest,
  model: ModelRef,
  count: RowCount = { rows: 0 },
): Generator<string, void, undefined> {
  const { predictor, sliceRows } = scorer;
  const x = scorer.sliceBuffer;
  const classes = classesOf(predictor);
  const width = Math.max(1, classes.length);
  const y = new Float64Array(request.rows * width);
  let done = 0;
  let n: number;
  while ((n = request.source.next(x, sliceRows)) > 0) {
    y.set(predictor.predict(x, n).subarray(0, n * width), done * width);
    done += n;
    count.rows += n;
    yield "";
  }
  const tensors = request.outputs.map((name) => {
    if (name === OUTPUT.label) {
      const labels = classes.map((c) => JSON.stringify(c));
      const data = new Array<string>(done);
      for (let r = 0; r < done; r++) data[r] = labels[argmax(y, r * width, width)]!;
      return tensor(name, "BYTES", [done], data);
    }
    const data = new Array<string>(done * width);
    for (let i = 0; i < done * width; i++) data[i] = jsonNumber(y[i]!);
    return tensor(name, "FP64", name === OUTPUT.probabilities ? [done, width] : [done], data);
  });
  let head = `{"model_name":${JSON.stringify(model.name)}`;
  if (model.version !== undefined) head += `,"model_version":${JSON.stringify(model.version)}`;
  if (request.id !== undefined) head += `,"id":${JSON.stringify(request.id)}`;
  yield `${head},"outputs":[${tensors.join(",")}]}`;
}

/** A `$response_output`, its data already JSON text. */
function tensor(name: string, datatype: Datatype, shape: readonly number[], data: readonly string[]): string {
  return `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${shape.join(",")}],"data":[${data.join(",")}]}`;
}

/** How to send the model's features, for messages. */
function expectedInputs(schema: FeatureSchema): string {
  const perFeature = schema.names.map((n, j) => `${JSON.stringify(n)} ${schema.numeric[j] === 1 ? "FP64" : "BYTES"}`);
  const numeric = schema.names.filter((_, j) => schema.numeric[j] === 1);
  const categorical = schema.names.filter((_, j) => schema.numeric[j] === 0);
  let text = `the model expects one input per feature, each of shape [N] or [N, 1]: ${listed(perFeature)}`;
  if (numeric.length > 0) {
    text += `; or the ${numeric.length} numeric feature${numeric.length === 1 ? "" : "s"} as one [N, ${numeric.length}] tensor under another name`;
    if (categorical.length > 0) text += `, beside ${listed(categorical.map((c) => JSON.stringify(c)))}`;
  }
  return text;
}

function listed(items: readonly string[]): string {
  return items.length <= 8 ? items.join(", ") : `${items.slice(0, 8).join(", ")}, … (${items.length} in all)`;
}

function shapeText(dims: readonly number[]): string {
  return `[${dims.join(", ")}]`;
}

function bad(message: string): HttpError {
  return new HttpError(400, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
