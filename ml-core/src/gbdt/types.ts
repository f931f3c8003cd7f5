/**
 * The one place that fixes the numeric types of training (as sklearn's `common.pxd` does).
 *
 * - Bins are bytes: at most 255 value bins per feature plus one bin for missing values, stored
 *   column-major (`bins[f * nRows + row]`) so a histogram pass reads one contiguous column.
 * - Gradients and hessians are float32 (half the memory traffic of the histogram pass); every sum
 *   over them (histograms, leaf values) is float64.
 * - Raw predictions are float64.
 */
export type BinMatrix = Uint8Array;
export const BinArray = Uint8Array;
export type GradientArray = Float32Array;
export const GradientArray = Float32Array;
export type RowIndexArray = Uint32Array;
export const RowIndexArray = Uint32Array;

/** Value bins per feature at most; the bin after the last one (255) holds missing values. */
export const MAX_BINS = 255;
export const MISSING_BIN = 255;
/** Histogram slots per bin: sum of gradients, sum of hessians, row count. */
export const HIST_STRIDE = 3;
