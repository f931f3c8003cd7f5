/**
 * Reading CSV channels into columns. The training channel decides the schema (which columns are
 * features, which are categorical, the categories); the validation channel is then read against
 * it. Every data error names the file, the line and the column.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { CsvError, fieldText, readCsv, type CsvRecord } from "./csv";
import { MISSING_TOKENS, parseNumberBytes } from "./values";

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
}

/**
 * The label as read: numeric values in `numeric` (NaN where the text is not a number), and the
 * non-numeric ones as codes into `texts` (-1 where numeric).
 */
export interface LabelColumn {
  readonly numeric: Float64Array;
  readonly textCode: Int32Array;
  readonly texts: string[];
}

export interface Table {
  readonly nRows: number;
  /** One column per feature (schema order): numbers, or category codes; NaN = missing. */
  readonly columns: Float64Array[];
  readonly label: LabelColumn;
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
  const schema = inferSchema(files[0], opts);
  const table = readTable(files, channel, schema, true);
  const features = schema.features.map((f, i) => (f.kind === "categorical" ? finalizeCategories(f, table.columns[i], table.nRows, opts.maxCategories) : f));
  return { schema: { ...schema, features }, table };
}

/** Reads another channel (validation) against the training schema; unseen categories read as missing. */
export function readTableWithSchema(files: readonly string[], channel: string, schema: DataSchema): Table {
  if (files.length === 0) throw new DataError(`channel "${channel}" has no files`);
  return readTable(files, channel, schema, false);
}

function inferSchema(file: string, opts: LayoutOptions): Omit<DataSchema, "features"> & { features: ColumnSpec[] } {
  const header = opts.labelColumn !== undefined;
  let names: string[] | undefined;
  let nonNumeric: boolean[] = [];
  let seen = 0;
  wrapCsv(() =>
    readCsv(file, (r) => {
      if (names === undefined) {
        if (header) {
          names = Array.from({ length: r.nFields }, (_, i) => fieldText(r, i).trim());
          nonNumeric = names.map(() => false);
          return;
        }
        names = Array.from({ length: r.nFields }, (_, i) => (i === 0 ? "label" : headerlessFeatureName(i - 1)));
        nonNumeric = names.map(() => false);
      }
      for (let i = 0; i < Math.min(r.nFields, nonNumeric.length); i++) {
        if (!nonNumeric[i] && parseNumberBytes(r.buf, r.starts[i], r.ends[i]) === undefined) nonNumeric[i] = true;
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
  if (columnNames.length < 2 && labelColumn >= 0) problems.push(`${file}: needs a label and at least one feature column, found ${columnNames.length} column(s)`);
  const forced = new Set(opts.categoricalColumns ?? []);
  const ignored = new Set(opts.ignoreColumns ?? []);
  for (const c of ignored) {
    if (!columnNames.includes(c) || columnNames.indexOf(c) === labelColumn) {
      problems.push(`ignore_columns: "${c}" is not a feature column; feature columns are: ${columnNames.filter((_, i) => i !== labelColumn).join(", ")}`);
    }
  }
  if (ignored.size > 0 && columnNames.filter((n, i) => i !== labelColumn && !ignored.has(n)).length === 0) problems.push("ignore_columns: no feature column left");
  for (const c of forced) {
    if (!columnNames.includes(c) || columnNames.indexOf(c) === labelColumn) {
      problems.push(`categorical_columns: "${c}" is not a feature column; feature columns are: ${columnNames.filter((_, i) => i !== labelColumn).join(", ")}`);
    }
  }
  if (problems.length > 0) throw new DataError(problems.join("\n"));
  const features: ColumnSpec[] = [];
  columnNames.forEach((name, column) => {
    if (column === labelColumn || ignored.has(name)) return;
    const categorical = forced.has(name) || nonNumeric[column];
    features.push(categorical ? { name, kind: "categorical", column, categories: [] } : { name, kind: "numeric", column });
  });
  return { header, label: columnNames[labelColumn], labelColumn, nColumns: columnNames.length, columnNames, features };
}

function readTable(files: readonly string[], channel: string, schema: DataSchema, learnCategories: boolean): Table {
  const hash = createHash("sha256");
  let bytes = 0;
  for (const f of files) bytes += fileSize(f);
  // Pre-size the columns from the byte count (a row is at least 2 bytes per column); grow if short.
  let capacity = Math.max(1024, Math.min(Math.ceil(bytes / Math.max(8, schema.nColumns * 4)), 1 << 26));
  const nF = schema.features.length;
  let columns = schema.features.map(() => new Float64Array(capacity));
  let labelNum = new Float64Array(capacity);
  let labelCode = new Int32Array(capacity);
  const labelTexts: string[] = [];
  const labelTextCodes = new Map<string, number>();
  const codeMaps = schema.features.map((f) => (f.kind === "categorical" ? new Map((f.categories ?? []).map((c, i) => [c, i])) : undefined));
  const learned = schema.features.map((f) => (f.kind === "categorical" ? (f.categories as string[]) : undefined));
  const specs = schema.features;
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
          if (r.nFields !== schema.nColumns) {
            throw new DataError(`${r.file}:${r.line}: expected ${schema.nColumns} fields, found ${r.nFields}`);
          }
          if (n === capacity) {
            capacity *= 2;
            columns = columns.map((c) => grow(c, capacity));
            labelNum = grow(labelNum, capacity);
            const lc = new Int32Array(capacity);
            lc.set(labelCode);
            labelCode = lc;
          }
          // Label.
          const ls = r.starts[schema.labelColumn];
          const le = r.ends[schema.labelColumn];
          const lv = parseNumberBytes(r.buf, ls, le);
          if (lv === undefined) {
            const text = fieldText(r, schema.labelColumn);
            let code = labelTextCodes.get(text);
            if (code === undefined) {
              code = labelTexts.length;
              labelTexts.push(text);
              labelTextCodes.set(text, code);
            }
            labelNum[n] = NaN;
            labelCode[n] = code;
          } else if (lv !== lv) {
            throw new DataError(`${r.file}:${r.line}: column "${schema.label}" (the label) is missing`);
          } else {
            labelNum[n] = lv;
            labelCode[n] = -1;
          }
          // Features.
          for (let j = 0; j < nF; j++) {
            const spec = specs[j];
            const c = spec.column;
            const codes = codeMaps[j];
            if (codes === undefined) {
              const v = parseNumberBytes(r.buf, r.starts[c], r.ends[c]);
              if (v === undefined) {
                throw new DataError(
                  `${r.file}:${r.line}: column "${spec.name}" is numeric but has ${JSON.stringify(fieldText(r, c))}` +
                    ` (a column is numeric when its first ${SCHEMA_SAMPLE_ROWS} values are; list it in categorical_columns otherwise)`,
                );
              }
              columns[j][n] = v;
            } else {
              const text = fieldText(r, c);
              let code = codes.get(text);
              if (code === undefined) {
                if (MISSING_TOKENS.has(text.trim()) || !learnCategories) {
                  columns[j][n] = NaN;
                  continue;
                }
                code = codes.size;
                codes.set(text, code);
                (learned[j] as string[]).push(text);
              }
              columns[j][n] = code;
            }
          }
          n++;
        },
        (chunk) => hash.update(chunk),
      ),
    );
    if (headerPending) throw new DataError(`${file}: empty file (expected a header row)`);
  }
  if (n === 0) throw new DataError(`channel "${channel}" has no data rows (files: ${files.join(", ")})`);
  return {
    nRows: n,
    columns: columns.map((c) => c.subarray(0, n)),
    label: { numeric: labelNum.subarray(0, n), textCode: labelCode.subarray(0, n), texts: labelTexts },
    dataHash: `sha256:${hash.digest("hex")}`,
    bytes,
  };
}

function checkHeader(r: CsvRecord, schema: DataSchema): void {
  const names = Array.from({ length: r.nFields }, (_, i) => fieldText(r, i).trim());
  if (names.length !== schema.columnNames.length || names.some((n, i) => n !== schema.columnNames[i])) {
    throw new DataError(`${r.file}:${r.line}: header (${names.join(",")}) differs from the first training file's (${schema.columnNames.join(",")})`);
  }
}

/**
 * Orders a categorical column's categories by name and keeps at most `max` of them (the most
 * frequent): each category needs its own bin. Recodes the column in place.
 */
function finalizeCategories(spec: ColumnSpec, col: Float64Array, nRows: number, max: number): ColumnSpec {
  const seen = spec.categories as string[];
  const counts = new Float64Array(seen.length);
  for (let i = 0; i < nRows; i++) if (col[i] === col[i]) counts[col[i]]++;
  let keep = seen.map((_, i) => i);
  if (keep.length > max) keep = keep.sort((a, b) => counts[b] - counts[a] || a - b).slice(0, max);
  keep.sort((a, b) => (seen[a] < seen[b] ? -1 : seen[a] > seen[b] ? 1 : 0));
  const remap = new Float64Array(seen.length).fill(NaN);
  keep.forEach((old, code) => (remap[old] = code));
  for (let i = 0; i < nRows; i++) if (col[i] === col[i]) col[i] = remap[col[i]];
  return { ...spec, categories: keep.map((i) => seen[i]) };
}

function grow(a: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(capacity);
  b.set(a);
  return b;
}

function fileSize(f: string): number {
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
