/**
 * What every request parser produces: encoded feature rows, row-major, written into a buffer the
 * caller owns, a slice at a time. Slicing bounds memory for large batch payloads and lets the
 * server answer /ping between slices.
 */
import { ByteCodes } from "../data/byte-codes";
import { ChainPredictor } from "../model/chain-predictor";
import { FlatPredictor } from "../model/flat-predictor";
import type { Predictor } from "../model/predictor";
import { badRow } from "./errors";

/** Which input column feeds which feature: the identity for the server, by header for files. */
export interface ColumnLayout {
  readonly nColumns: number;
  /** Feature index for each input column, or -1 to ignore the column. */
  readonly target: Int32Array;
}

export function identityLayout(nFeatures: number): ColumnLayout {
  return { nColumns: nFeatures, target: Int32Array.from({ length: nFeatures }, (_, i) => i) };
}

export interface RowSource {
  /**
   * Encodes up to `maxRows` further rows into `x` (row-major, `features.length` values per row).
   * Returns how many rows it wrote; 0 once the input is exhausted. Throws an HttpError(400) naming
   * the row and column of the first bad value.
   */
  next(x: Float64Array, maxRows: number): number;
}

/** Texts memoised per categorical feature at most (a client's stream of unseen texts must not grow it without bound). */
const MEMO_MAX_ENTRIES = 1024;

/** What parsers need to know about the model's inputs, computed once per predictor. */
export class FeatureSchema {
  readonly nFeatures: number;
  readonly names: readonly string[];
  readonly numeric: Uint8Array;
  readonly indexOf: ReadonlyMap<string, number>;
  /**
   * Whether the predictor's `encode` returns a finite number unchanged for a numeric feature, as
   * the shipped predictors do (data/values.ts clampNumber only changes ±Infinity), so a parser
   * may skip the call for the numbers it converts itself.
   */
  readonly finiteNumbersEncodeAsThemselves: boolean;
  /** CSV columns that are the features in order (request bodies, headerless files); built once. */
  readonly featureOrder: ColumnLayout;
  /**
   * Per categorical feature of a shipped predictor (whose `encode` depends on the text alone), raw
   * bytes → encoded value: read by the CSV parser, filled by `encodeField`.
   */
  readonly memos: readonly (ByteCodes | undefined)[];

  constructor(readonly predictor: Predictor) {
    this.names = predictor.features.map((f) => f.name);
    this.nFeatures = this.names.length;
    this.numeric = Uint8Array.from(predictor.features, (f) => (f.kind === "numeric" ? 1 : 0));
    this.indexOf = new Map(this.names.map((n, i) => [n, i]));
    this.finiteNumbersEncodeAsThemselves = predictor instanceof FlatPredictor || predictor instanceof ChainPredictor;
    this.featureOrder = identityLayout(this.nFeatures);
    this.memos = predictor.features.map((f) => (this.finiteNumbersEncodeAsThemselves && f.kind !== "numeric" ? new ByteCodes() : undefined));
  }

  /**
   * `encode` of the field `buf[start .. end)` (unquoted). A categorical feature's texts are
   * memoised by their bytes: no string and no Map lookup for a text seen before (100-row requests
   * of the flights model spent about a fifth of their parsing there).
   */
  encodeField(row: number, feature: number, buf: Buffer, start: number, end: number): number {
    const memo = this.memos[feature];
    if (memo === undefined) return this.encode(row, feature, buf.toString("utf8", start, end));
    const known = memo.get(buf, start, end);
    if (known !== undefined) return known;
    const v = this.encode(row, feature, buf.toString("utf8", start, end));
    if (memo.size < MEMO_MAX_ENTRIES) memo.set(buf, start, end, v);
    return v;
  }

  /** `encode` for text and JSON values, turning its RangeError into a 400 that names the cell. */
  encode(row: number, feature: number, raw: string | number | boolean | null): number {
    try {
      return this.predictor.encode(feature, raw);
    } catch (e) {
      if (e instanceof RangeError) throw badRow(row, e.message, { index: feature, name: this.names[feature]! });
      throw e;
    }
  }

  /** "5 features (a, b, c, d, e)", shortened for wide models. */
  describe(): string {
    const shown = this.names.length <= 8 ? this.names.join(", ") : `${this.names.slice(0, 8).join(", ")}, …`;
    return `${this.nFeatures} feature${this.nFeatures === 1 ? "" : "s"} (${shown})`;
  }
}
