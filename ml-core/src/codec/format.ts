/**
 * Predictions → response text, one output record per input row, in order.
 *
 * - CSV: `label,p_class1,p_class2,...` for classification (probabilities in the model's class
 *   order), the value for regression. No header, so batch transform can join output lines to input
 *   lines.
 * - JSON: `{"predictions": [...]}`; JSON lines: one prediction object per line. A prediction is
 *   `{"predicted_label": ..., "probabilities": {class: p, ...}}` or `{"score": v}`, the field
 *   names of SageMaker's built-in algorithms.
 *
 * Strings are built by hand: JSON.stringify of an object per row is several times slower, and
 * the label and class-name fragments are escaped once, up front.
 */
import type { Predictor } from "../model/predictor";
import type { Format } from "./media-types";
import { writeShortest } from "./shortest";

// Indexed reads carry `!` (noUncheckedIndexedAccess): rows and classes index a predictions array of
// nRows × nClasses. A check per read would cost the hot loops; the emitted JavaScript is unchanged.

/**
 * The names of a prediction's parts: fields of the JSON records here, output tensors of the Open
 * Inference Protocol (oip.ts).
 */
export const PREDICTION_FIELD = { label: "predicted_label", probabilities: "probabilities", score: "score" } as const;

const SCORE_OPEN = `{"${PREDICTION_FIELD.score}":`;

export class Formatter {
  private readonly nClasses: number;
  private readonly classes: readonly string[];
  private readonly csvLabels: readonly string[];
  private readonly jsonLabels: readonly string[];
  /** `"class":` fragments of the probabilities object, comma-led after the first. */
  private readonly jsonKeys: readonly string[];
  /** `csvLabels` as UTF-8, for `csvBytes`. */
  private readonly csvLabelBytes: readonly Uint8Array[];
  /** The longest entry of `csvLabelBytes`. */
  private readonly maxLabelBytes: number;

  constructor(predictor: Predictor) {
    const classes = predictor.objective === "regression" ? [] : (predictor.classes ?? []);
    this.nClasses = classes.length;
    this.classes = classes;
    this.csvLabels = classes.map(csvField);
    this.jsonLabels = classes.map((c) => `{"${PREDICTION_FIELD.label}":${JSON.stringify(c)},"${PREDICTION_FIELD.probabilities}":{`);
    this.jsonKeys = classes.map((c, k) => `${k === 0 ? "" : ","}${JSON.stringify(c)}:`);
    this.csvLabelBytes = this.csvLabels.map((l) => Buffer.from(l, "utf8"));
    this.maxLabelBytes = this.csvLabelBytes.reduce((m, b) => Math.max(m, b.length), 0);
  }

  /**
   * The bytes of `format("csv", y, nRows)`, written straight into one buffer of its own. For
   * `ml-core predict`: concatenating a slice's rows into a string, then encoding it, cost more than
   * the numbers' own conversion and most of the garbage collection of a file job.
   */
  csvBytes(y: Float64Array, nRows: number): Uint8Array {
    const k = this.nClasses;
    const perRow = k === 0 ? MAX_NUMBER_CHARS + 1 : this.maxLabelBytes + k * (MAX_NUMBER_CHARS + 1) + 1;
    // Sized for the longest rows, not zero-filled: the pages past the text are never touched, so
    // they cost neither time nor memory (an exact-size copy from a reused buffer measured slower).
    const out = Buffer.allocUnsafeSlow(nRows * perRow);
    let pos = 0;
    if (k === 0) {
      for (let r = 0; r < nRows; r++) {
        pos = writeCsvNumber(out, pos, y[r]!);
        out[pos++] = LF;
      }
      return out.subarray(0, pos);
    }
    const labels = this.csvLabelBytes;
    for (let r = 0; r < nRows; r++) {
      const base = r * k;
      // The same label choice as `csv`: for two classes `p1 > p0`, which is argmax's tie rule.
      const label = labels[argmax(y, base, k)]!;
      for (let i = 0; i < label.length; i++) out[pos++] = label[i]!;
      for (let j = 0; j < k; j++) {
        out[pos++] = COMMA;
        pos = writeCsvNumber(out, pos, y[base + j]!);
      }
      out[pos++] = LF;
    }
    return out.subarray(0, pos);
  }

  /** The header `ml-core predict` writes to a CSV file when its input had one. */
  csvHeader(): string {
    if (this.nClasses === 0) return "score\n";
    return `predicted_label,${this.classes.map((c) => csvField(`probability_${c}`)).join(",")}\n`;
  }

  /**
   * Formats `nRows` predictions. For JSON, the records are comma-separated without the
   * surrounding `{"predictions":[` … `]}`, so slices can be joined.
   */
  format(format: Format, y: Float64Array, nRows: number): string {
    switch (format) {
      case "csv":
        return this.csv(y, nRows);
      case "json":
        return this.objects(y, nRows, ",");
      case "jsonlines":
        return this.objects(y, nRows, "\n") + "\n";
    }
  }

  private csv(y: Float64Array, nRows: number): string {
    const k = this.nClasses;
    let out = "";
    if (k === 0) {
      for (let r = 0; r < nRows; r++) out += csvNumber(y[r]!) + "\n";
      return out;
    }
    if (k === 2) {
      // Binary: one template per row builds far fewer intermediate strings (measured 2x).
      const [no, yes] = this.csvLabels;
      for (let r = 0; r < nRows; r++) {
        const p0 = y[2 * r]!;
        const p1 = y[2 * r + 1]!;
        out += `${p1 > p0 ? yes : no},${csvNumber(p0)},${csvNumber(p1)}\n`;
      }
      return out;
    }
    for (let r = 0; r < nRows; r++) {
      const base = r * k;
      let line = this.csvLabels[argmax(y, base, k)];
      for (let j = 0; j < k; j++) line += "," + csvNumber(y[base + j]!);
      out += line + "\n";
    }
    return out;
  }

  private objects(y: Float64Array, nRows: number, separator: string): string {
    const k = this.nClasses;
    let out = "";
    for (let r = 0; r < nRows; r++) {
      if (r > 0) out += separator;
      if (k === 0) {
        out += `${SCORE_OPEN}${jsonNumber(y[r]!)}}`;
        continue;
      }
      const base = r * k;
      let rec = this.jsonLabels[argmax(y, base, k)];
      for (let j = 0; j < k; j++) rec += this.jsonKeys[j] + jsonNumber(y[base + j]!);
      out += rec + "}}";
    }
    return out;
  }
}

/** The first class with the highest probability (scikit-learn's argmax tie rule). */
export function argmax(y: Float64Array, base: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (y[base + j]! > y[base + best]!) best = j;
  return best;
}

const COMMA = 44;
const LF = 10;
/**
 * Room for one `String(v)` of a double: the longest are 25 characters ("-0.0000017420527170611222",
 * 17 digits after 5 zeros); 32 leaves a margin.
 */
const MAX_NUMBER_CHARS = 32;

/** Copies an ASCII string (a formatted number) into `out` at `pos`; returns the end. */
function writeAscii(out: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
  return pos;
}

/** `csvNumber(v)` written into `out` at `pos`; returns the end. */
function writeCsvNumber(out: Uint8Array, pos: number, v: number): number {
  const end = writeShortest(out, pos, v);
  return end >= 0 ? end : writeAscii(out, pos, csvNumber(v));
}

/** A prediction as JSON number text: the shortest round-trip spelling; null when not finite. */
export function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : "null";
}

function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : "";
}

/** RFC 4180 quoting, only when the text needs it. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
