// The profile room's public API: baselines of the training data and drift of requests against them.
export { STATISTICS_FILE, CONSTRAINTS_FILE, NUMERIC_BUCKETS, baselineFromBins, mergeBins, parseStatistics, writeBaseline } from "./baseline";
export type { Baseline, BaselineConstraints, BaselineStatistics, FeatureStatistics, NumericBucket, CategoryBucket } from "./baseline";
export { DEFAULT_MIN_ROWS, DriftMonitor, PSI_SHARE_FLOOR, PSI_THRESHOLDS, psi, verdictOf } from "./drift";
export type { BucketShare, DriftReport, FeatureDrift, Verdict } from "./drift";
