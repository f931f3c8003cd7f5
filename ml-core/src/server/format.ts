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

export class Formatter {
  private readonly nClasses: number;
  private readonly classes: readonly string[];
  private readonly csvLabels: readonly string[];
  private readonly jsonLabels: readonly string[];
  /** `"class":` fragments of the probabilities object, comma-led after the first. */
  private readonly jsonKeys: readonly string[];

  constructor(predictor: Predictor) {
    const classes = predictor.objective === "regression" ? [] : (predictor.classes ?? []);
    this.nClasses = classes.length;
    this.classes = classes;
    this.csvLabels = classes.map(csvField);
    this.jsonLabels = classes.map((c) => `{"predicted_label":${JSON.stringify(c)},"probabilities":{`);
    this.jsonKeys = classes.map((c, k) => `${k === 0 ? "" : ","}${JSON.stringify(c)}:`);
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
      for (let r = 0; r < nRows; r++) out += csvNumber(y[r]) + "\n";
      return out;
    }
    if (k === 2) {
      // Binary: one template per row builds far fewer intermediate strings (measured 2x).
      const [no, yes] = this.csvLabels;
      for (let r = 0; r < nRows; r++) {
        const p0 = y[2 * r];
        const p1 = y[2 * r + 1];
        out += `${p1 > p0 ? yes : no},${csvNumber(p0)},${csvNumber(p1)}\n`;
      }
      return out;
    }
    for (let r = 0; r < nRows; r++) {
      const base = r * k;
      let line = this.csvLabels[argmax(y, base, k)];
      for (let j = 0; j < k; j++) line += "," + csvNumber(y[base + j]);
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
        out += `{"score":${jsonNumber(y[r])}}`;
        continue;
      }
      const base = r * k;
      let rec = this.jsonLabels[argmax(y, base, k)];
      for (let j = 0; j < k; j++) rec += this.jsonKeys[j] + jsonNumber(y[base + j]);
      out += rec + "}}";
    }
    return out;
  }
}

/** The first class with the highest probability (scikit-learn's argmax tie rule). */
function argmax(y: Float64Array, base: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (y[base + j] > y[base + best]) best = j;
  return best;
}

function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : "null";
}

function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : "";
}

/** RFC 4180 quoting, only when the text needs it. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
