/**
 * Reading CSV channels into columns. The training channel decides the schema (which columns are
 * features, which are categorical, the categories); the validation channel is then read against
 * it. Every data error names the file, the line and the column. Reading straight into bins, which
 * needs the algorithm's binning, composes the building blocks exported here (train/binned-data.ts).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { ByteCodes } from "./byte-codes";
import { CsvError, fieldText, readCsv, readCsvRange, type CsvRecord } from "./csv";
import { MISSING_TOKENS, parseNumberBytes } from "./values";

// Indexed reads carry `!` (noUncheckedIndexedAccess): columns and features index the schema's own
// arrays, and fields come from records of nColumns fields (checked). A check per read would cost
// the hot loops; the emitted JavaScript is unchanged.

/** Rows of the first training file that decide whether a column is numeric or categorical. */
export const SCHEMA_SAMPLE_ROWS = 1000;
/** Feature names when the data has no header (the label is then the first column). */
export const headerlessFeatureName = (i: number): string => `f${i}`;

export interface LayoutOptions {
  /** Name of the label column: the files have a header row. Undefined: no header, label first. */
  readonly labelColumn?: string;
  /** Columns that are neither label nor feature (ids, other targets). */
  readonly ignoreColumns?: readonly string[];
  /** Columns to treat as categorical even when their values look numeric (e.g. zip codes). */
  readonly categoricalColumns?: readonly string[];
  /** Most categories kept per categorical column (the most frequent); the rest read as missing. */
  readonly maxCategories: number;
  /** Name of a column of sample weights (non-negative numbers; needs a header). */
  readonly weightColumn?: string;
}

export interface ColumnSpec {
  readonly name: string;
  readonly kind: "numeric" | "categorical";
  /** Index of the column in the file. */
  readonly column: number;
  /** Categorical: the categories, a category's code is its index. */
  readonly categories?: string[];
}

export interface DataSchema {
  readonly header: boolean;
  readonly label: string;
  readonly labelColumn: number;
  readonly nColumns: number;
  readonly columnNames: readonly string[];
  readonly features: readonly ColumnSpec[];
  /** Index of the sample-weight column in the file; -1 when there is none. */
  readonly weightColumn: number;
}

/**
 * The label as read: numeric values in `numeric` (NaN where the text is not a number), and the
 * non-numeric ones as codes into `texts` (-1 where numeric; undefined when every label is numeric).
 */
export interface LabelColumn {
  readonly numeric: Float64Array;
  readonly textCode: Int32Array | undefined;
  readonly texts: string[];
}

export interface Table {
  readonly nRows: number;
  /** One column per feature (schema order): numbers, or category codes; NaN = missing. */
  readonly columns: Float64Array[];
  readonly label: LabelColumn;
  /** Sample weights, when the schema has a weight column. */
  readonly weights?: Float64Array;
  /** `sha256:<hex>` over the files' bytes, in order. */
  readonly dataHash: string;
  /** Total size of the files read, in bytes. */
  readonly bytes: number;
}

export class DataError extends Error {
  override readonly name = "DataError";
}

/** Reads the training channel: infers the schema, then reads every row. */
export function readTrainingTable(files: readonly string[], channel: string, opts: LayoutOptions): { schema: DataSchema; table: Table } {
  if (files.length === 0) throw new DataError(`channel "${channel}" has no files`);
  const schema = inferSchema(files[0]!, opts);
  const table = readTable(files, channel, schema, true);
  const features = schema.features.map((f, i) => (f.kind === "categorical" ? finalizeCategories(f, table.columns[i]!, table.nRows, opts.maxCategories) : f));
  return { schema: { ...schema, features }, table };
}

/** Reads another channel (validation) against the training schema; unseen categories read as missing. */
export function readTableWithSchema(files: readonly string[], channel: string, schema: DataSchema): Table {
  if (files.length === 0) throw new DataError(`channel "${channel}" has no files`);
  return readTable(files, channel, schema, false);
}

/** Where a column's sample first showed a number and first showed text. */
interface ColumnSample {
  numberLine: number;
  textLine: number;
  text: string;
}

export function inferSchema(file: string, opts: LayoutOptions): Omit<DataSchema, "features"> & { features: ColumnSpec[] } {
  const header = opts.labelColumn !== undefined;
  let names: string[] | undefined;
  let samples: ColumnSample[] = [];
  let seen = 0;
  wrapCsv(() =>
    readCsv(file, (r) => {
      if (names === undefined) {
        if (header) {
          names = Array.from({ length: r.nFields }, (_, i) => fieldText(r, i).trim());
          samples = names.map(() => ({ numberLine: 0, textLine: 0, text: "" }));
          return;
        }
        names = Array.from({ length: r.nFields }, (_, i) => (i === 0 ? "label" : headerlessFeatureName(i - 1)));
        samples = names.map(() => ({ numberLine: 0, textLine: 0, text: "" }));
      }
      for (let i = 0; i < Math.min(r.nFields, samples.length); i++) {
        const s = samples[i]!;
        if (s.numberLine !== 0 && s.textLine !== 0) continue;
        const v = parseNumberBytes(r.buf, r.starts[i]!, r.ends[i]!);
        // Missing cells (NaN) say nothing about the column's type.
        if (v === undefined) {
          if (s.textLine === 0) {
            s.textLine = r.line;
            s.text = fieldText(r, i);
          }
        } else if (v === v && s.numberLine === 0) {
          s.numberLine = r.line;
        }
      }
      return ++seen < SCHEMA_SAMPLE_ROWS;
    }),
  );
  if (names === undefined || (header && seen === 0)) throw new DataError(`${file}: no data rows`);
  const columnNames: string[] = names;
  const problems: string[] = [];
  const dup = columnNames.find((n, i) => columnNames.indexOf(n) !== i);
  if (dup !== undefined) problems.push(`${file}: column "${dup}" appears more than once in the header`);
  const labelColumn = header ? columnNames.indexOf(opts.labelColumn as string) : 0;
  if (labelColumn < 0) problems.push(`${file}: label column "${opts.labelColumn}" not found; columns are: ${columnNames.join(", ")}`);
  if (columnNames.length < 2 && labelColumn >= 0)
    problems.push(`${file}: needs a label and at least one feature column, found ${columnNames.length} column(s)`);
  const forced = new Set(opts.categoricalColumns ?? []);
  const ignored = new Set(opts.ignoreColumns ?? []);
  let weightColumn = -1;
  if (opts.weightColumn !== undefined) {
    weightColumn = header ? columnNames.indexOf(opts.weightColumn) : -1;
    if (!header) problems.push(`weight_column: "${opts.weightColumn}" needs data with a header (set label to the label column's name)`);
    else if (weightColumn < 0 || weightColumn === labelColumn) {
      problems.push(
        `${file}: weight_column "${opts.weightColumn}" not found among the feature columns; columns are: ${columnNames.filter((_, i) => i !== labelColumn).join(", ")}`,
      );
    } else {
      // The weights are neither label nor feature.
      ignored.add(opts.weightColumn);
      if (forced.has(opts.weightColumn)) problems.push(`categorical_columns: "${opts.weightColumn}" is the weight column`);
    }
  }
  for (const c of ignored) {
    if (!columnNames.includes(c) || columnNames.indexOf(c) === labelColumn) {
      problems.push(`ignore_columns: "${c}" is not a feature column; feature columns are: ${columnNames.filter((_, i) => i !== labelColumn).join(", ")}`);
    }
  }
  if (ignored.size > 0 && columnNames.filter((n, i) => i !== labelColumn && !ignored.has(n)).length === 0)
    problems.push("ignore_columns: no feature column left");
  for (const c of forced) {
    if (!columnNames.includes(c) || columnNames.indexOf(c) === labelColumn) {
      problems.push(`categorical_columns: "${c}" is not a feature column; feature columns are: ${columnNames.filter((_, i) => i !== labelColumn).join(", ")}`);
    }
  }
  // A column is categorical only when declared or when every value in the sample is text: one
  // stray text cell among numbers is far more often a data error than a category, and silently
  // turning the column categorical would train a worse model.
  columnNames.forEach((name, column) => {
    const s = samples[column];
    if (column === labelColumn || ignored.has(name) || forced.has(name) || s === undefined) return;
    if (s.numberLine !== 0 && s.textLine !== 0) {
      problems.push(
        `${file}:${s.textLine}:${column + 1}: column "${name}" (column ${column + 1}) mixes numbers (first at line ${s.numberLine}) and text: ` +
          `${JSON.stringify(s.text)} is not a number; fix the value, or list "${name}" in categorical_columns if the column really holds categories`,
      );
    }
  });
  if (problems.length > 0) throw new DataError(problems.join("\n"));
  const features: ColumnSpec[] = [];
  columnNames.forEach((name, column) => {
    if (column === labelColumn || ignored.has(name)) return;
    const categorical = forced.has(name) || (samples[column]?.textLine ?? 0) !== 0;
    features.push(categorical ? { name, kind: "categorical", column, categories: [] } : { name, kind: "numeric", column });
  });
  return { header, label: columnNames[labelColumn]!, labelColumn, nColumns: columnNames.length, columnNames, features, weightColumn };
}

/** What a channel scan reports besides the rows. */
interface ScanSummary {
  readonly nRows: number;
  readonly dataHash: string;
  readonly bytes: number;
}

/**
 * Decodes every row of `files` against `schema` (see `RowDecoder`). `onRow` receives the decoded
 * row in a buffer that is reused for the next row.
 */
export function scan(
  files: readonly string[],
  channel: string,
  schema: DataSchema,
  codeMaps: (Map<string, number> | undefined)[],
  learned: (string[] | undefined)[],
  learnCategories: boolean,
  label: { texts: string[]; codes: Map<string, number> },
  onRow: (row: number, values: Float64Array, labelNum: number, labelCode: number, weight: number) => void,
): ScanSummary {
  const hash = createHash("sha256");
  let bytes = 0;
  for (const f of files) bytes += fileSize(f);
  const d = new RowDecoder(schema, codeMaps, learned, learnCategories, label);
  let n = 0;
  for (const file of files) {
    let headerPending = schema.header;
    wrapCsv(() =>
      readCsv(
        file,
        (r: CsvRecord) => {
          if (headerPending) {
            headerPending = false;
            checkHeader(r, schema);
            return;
          }
          d.decode(r);
          onRow(n, d.values, d.labelNum, d.labelCode, d.weight);
          n++;
        },
        (chunk) => hash.update(chunk),
      ),
    );
    if (headerPending) throw new DataError(`${file}: empty file (expected a header row)`);
  }
  if (n === 0) throw new DataError(`channel "${channel}" has no data rows (files: ${files.join(", ")})`);
  return { nRows: n, dataHash: `sha256:${hash.digest("hex")}`, bytes };
}

/**
 * Decodes the records of the byte range `[start, stop)` of a plain CSV file (see `readCsvRange`;
 * the range at 0 holds the header when the schema has one) with `d`. Returns where the first
 * record after the range starts. Errors name the file, but lines count from the range's start.
 */
export function scanRange(file: string, start: number, stop: number, schema: DataSchema, d: RowDecoder, onRow: (r: CsvRecord) => void): number {
  let headerPending = start === 0 && schema.header;
  let next = 0;
  wrapCsv(() => {
    next = readCsvRange(file, start, stop, (r) => {
      if (headerPending) {
        headerPending = false;
        checkHeader(r, schema);
        return;
      }
      d.decode(r);
      onRow(r);
    });
  });
  if (headerPending) throw new DataError(`${file}: empty file (expected a header row)`);
  return next;
}

/**
 * Decodes one record at a time against `schema`: each feature to a number (a category's code for
 * categorical columns, NaN for missing), the label to a number or a text code, the weight. `codeMaps`
 * maps a categorical column's text to its code; with `learnCategories` new texts get the next code
 * and are appended to `learned`, otherwise they read as missing. Codes thus follow the order texts
 * are first seen in. Bad values throw a DataError naming the file, line and column.
 */
export class RowDecoder {
  /** The last record's features. */
  readonly values: Float64Array;
  labelNum = NaN;
  labelCode = -1;
  weight = 1;
  private readonly memos: (ByteCodes | undefined)[];

  constructor(
    private readonly schema: DataSchema,
    readonly codeMaps: (Map<string, number> | undefined)[],
    readonly learned: (string[] | undefined)[],
    private readonly learnCategories: boolean,
    readonly label: { texts: string[]; codes: Map<string, number> },
  ) {
    this.values = new Float64Array(schema.features.length);
    this.memos = codeMaps.map((m) => (m === undefined ? undefined : new ByteCodes()));
  }

  decode(r: CsvRecord): void {
    const schema = this.schema;
    const { codeMaps, memos, values, label } = this;
    if (r.nFields !== schema.nColumns) {
      throw new DataError(`${r.file}:${r.line}: expected ${schema.nColumns} fields, found ${r.nFields}`);
    }
    const lv = parseNumberBytes(r.buf, r.starts[schema.labelColumn]!, r.ends[schema.labelColumn]!);
    let labelNum = NaN;
    let labelCode = -1;
    if (lv === undefined) {
      const text = fieldText(r, schema.labelColumn);
      let code = label.codes.get(text);
      if (code === undefined) {
        code = label.texts.length;
        label.texts.push(text);
        label.codes.set(text, code);
      }
      labelCode = code;
    } else if (lv !== lv) {
      throw new DataError(`${r.file}:${r.line}: column "${schema.label}" (the label) is missing`);
    } else {
      labelNum = lv;
    }
    this.labelNum = labelNum;
    this.labelCode = labelCode;
    const wc = schema.weightColumn;
    if (wc >= 0) {
      const v = parseNumberBytes(r.buf, r.starts[wc]!, r.ends[wc]!);
      if (v === undefined || !(v >= 0 && v < Infinity)) {
        throw new DataError(
          `${r.file}:${r.line}:${wc + 1}: column "${schema.columnNames[wc]}" (the weight) must be a non-negative number, got ${JSON.stringify(fieldText(r, wc))}`,
        );
      }
      this.weight = v;
    }
    const specs = schema.features;
    const nF = specs.length;
    for (let j = 0; j < nF; j++) {
      const c = specs[j]!.column;
      const codes = codeMaps[j];
      if (codes === undefined) {
        const v = parseNumberBytes(r.buf, r.starts[c]!, r.ends[c]!);
        if (v === undefined) {
          throw new DataError(
            `${r.file}:${r.line}:${c + 1}: column "${specs[j]!.name}" (column ${c + 1}) is numeric but has ${JSON.stringify(fieldText(r, c))}` +
              ` (its first ${SCHEMA_SAMPLE_ROWS} rows held no text, so it is numeric); fix the value, or list "${specs[j]!.name}" in categorical_columns if the column really holds categories`,
          );
        }
        values[j] = v;
      } else {
        const memo = memos[j]!;
        const known = memo.get(r.buf, r.starts[c]!, r.ends[c]!);
        if (known !== undefined) {
          values[j] = known;
          continue;
        }
        // The same bytes always decode alike within a scan: a learned code stays, a
        // missing token or (not learning) an unknown text stays NaN.
        const text = fieldText(r, c);
        let code = codes.get(text);
        if (code === undefined) {
          if (!this.learnCategories || MISSING_TOKENS.has(text.trim())) {
            values[j] = NaN;
            memo.set(r.buf, r.starts[c]!, r.ends[c]!, NaN);
            continue;
          }
          code = codes.size;
          codes.set(text, code);
          this.learned[j]!.push(text);
        }
        values[j] = code;
        memo.set(r.buf, r.starts[c]!, r.ends[c]!, code);
      }
    }
  }
}

/** A growable label column (exactly sized when the row count is known). */
export class LabelBuilder {
  private numeric: Float64Array;
  private textCode: Int32Array | undefined;
  private n = 0;

  constructor(
    capacity = 1024,
    readonly texts: string[] = [],
    readonly codes = new Map<string, number>(),
    /** Numeric labels on shared memory (kept there while the capacity is not outgrown). */
    shared = false,
  ) {
    const n = Math.max(capacity, 1);
    this.numeric = new Float64Array(shared ? new SharedArrayBuffer(n * 8) : new ArrayBuffer(n * 8));
  }

  add(row: number, num: number, code: number): void {
    if (row === this.numeric.length) {
      const m = row * 2;
      this.numeric = growTo(this.numeric, m);
      if (this.textCode) this.textCode = growIntTo(this.textCode, m);
    }
    this.numeric[row] = num;
    if (code >= 0 && this.textCode === undefined) {
      // Allocated at the first text label only: numeric labels (the common case) need none.
      this.textCode = new Int32Array(this.numeric.length).fill(-1);
    }
    if (this.textCode) this.textCode[row] = code;
    this.n = row + 1;
  }

  build(): LabelColumn {
    // Exactly sized already, or copied to the exact length (the doubling buffer becomes garbage).
    const exact = this.n === this.numeric.length;
    return {
      numeric: exact ? this.numeric : this.numeric.slice(0, this.n),
      textCode: exact ? this.textCode : this.textCode?.slice(0, this.n),
      texts: this.texts,
    };
  }
}

export function categoryState(schema: DataSchema, learn: boolean): { codeMaps: (Map<string, number> | undefined)[]; learned: (string[] | undefined)[] } {
  return {
    codeMaps: schema.features.map((f) => (f.kind === "categorical" ? new Map((learn ? [] : (f.categories ?? [])).map((c, i) => [c, i])) : undefined)),
    learned: schema.features.map((f) => (f.kind === "categorical" ? (learn ? [] : (f.categories as string[])) : undefined)),
  };
}

/** Reads a channel into raw columns (numbers and category codes). */
function readTable(files: readonly string[], channel: string, schema: DataSchema, learnCategories: boolean): Table {
  const { codeMaps, learned } = categoryState(schema, learnCategories);
  let capacity = 1024;
  let columns = schema.features.map(() => new Float64Array(capacity));
  const labels = new LabelBuilder();
  let weights = schema.weightColumn >= 0 ? new Float64Array(capacity) : undefined;
  const summary = scan(files, channel, schema, codeMaps, learned, learnCategories, labels, (row, values, ln, lc, w) => {
    if (row === capacity) {
      capacity *= 2;
      columns = columns.map((c) => growTo(c, capacity));
      if (weights !== undefined) weights = growTo(weights, capacity);
    }
    for (let j = 0; j < values.length; j++) columns[j]![row] = values[j]!;
    labels.add(row, ln, lc);
    if (weights !== undefined) weights[row] = w;
  });
  if (learnCategories) {
    schema.features.forEach((f, j) => {
      if (f.kind === "categorical") (f.categories as string[]).push(...(learned[j] as string[]));
    });
  }
  return { ...summary, columns: columns.map((c) => c.subarray(0, summary.nRows)), label: labels.build(), weights: weights?.slice(0, summary.nRows) };
}

function checkHeader(r: CsvRecord, schema: DataSchema): void {
  const names = Array.from({ length: r.nFields }, (_, i) => fieldText(r, i).trim());
  if (names.length !== schema.columnNames.length || names.some((n, i) => n !== schema.columnNames[i])) {
    throw new DataError(`${r.file}:${r.line}: header (${names.join(",")}) differs from the first training file's (${schema.columnNames.join(",")})`);
  }
}

/**
 * Orders a categorical column's categories by name and keeps at most `max` of them (the most
 * frequent; ties: first seen): each category needs its own bin.
 */
export function keepCategories(seen: readonly string[], counts: Float64Array, max: number): { categories: string[]; remap: Float64Array } {
  let keep = seen.map((_, i) => i);
  if (keep.length > max) keep = keep.sort((a, b) => counts[b]! - counts[a]! || a - b).slice(0, max);
  keep.sort((a, b) => (seen[a]! < seen[b]! ? -1 : seen[a]! > seen[b]! ? 1 : 0));
  const remap = new Float64Array(seen.length).fill(NaN);
  keep.forEach((old, code) => (remap[old] = code));
  return { categories: keep.map((i) => seen[i]!), remap };
}

/** Recodes a raw categorical column in place to the kept categories. */
function finalizeCategories(spec: ColumnSpec, col: Float64Array, nRows: number, max: number): ColumnSpec {
  const seen = spec.categories as string[];
  const counts = new Float64Array(seen.length);
  for (let i = 0; i < nRows; i++) if (col[i] === col[i]) counts[col[i]!]!++;
  const { categories, remap } = keepCategories(seen, counts, max);
  for (let i = 0; i < nRows; i++) if (col[i] === col[i]) col[i] = remap[col[i]!]!;
  return { ...spec, categories };
}

export function growTo(a: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

function growIntTo(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity).fill(-1);
  b.set(a);
  return b;
}

export function fileSize(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch (e) {
    throw new DataError(`cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function wrapCsv(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof CsvError) throw new DataError(e.message);
    if ((e as NodeJS.ErrnoException).code !== undefined && !(e instanceof DataError)) {
      throw new DataError(`cannot read data: ${(e as Error).message}`);
    }
    throw e;
  }
}
