/**
 * Feature importance of a model, from its trees alone: per feature, the total split gain (the
 * gains in model.json: sklearn's, without the ½) and the number of splits, as LightGBM's
 * `importance_type` "gain" and "split" and XGBoost's "total_gain" and "weight".
 */
import type { FeatureImportance, FeatureSchema, ModelJson, TreeJson } from "./format";

/** One entry per feature, in the model's feature order. */
export function featureImportance(features: readonly FeatureSchema[], trees: readonly TreeJson[]): FeatureImportance[] {
  const gain = new Float64Array(features.length);
  const splits = new Float64Array(features.length);
  for (const t of trees) {
    for (let i = 0; i < t.feature.length; i++) {
      const f = t.feature[i]!;
      if (f < 0 || f >= features.length) continue;
      gain[f]! += t.gain[i]!;
      splits[f]!++;
    }
  }
  return features.map((f, i) => ({ name: f.name, gain: gain[i]!, splits: splits[i]! }));
}

export interface ModelDescription {
  readonly objective: string;
  readonly label: string;
  readonly classes: readonly string[] | null;
  readonly features: readonly { readonly name: string; readonly kind: string; readonly categories?: number }[];
  readonly trees: number;
  readonly rounds: number;
  readonly leaves: number;
  readonly training: ModelJson["training"];
  readonly hyperparameters: Record<string, string>;
  readonly metrics: Record<string, number>;
  /** By gain, highest first; `gainShare` and `splitShare` are fractions of the totals. */
  readonly importance: readonly (FeatureImportance & { readonly gainShare: number; readonly splitShare: number })[];
}

/** What `ml-core inspect` shows of a model: the data, apart from how it is printed. */
export function describeModel(m: ModelJson): ModelDescription {
  // Recomputed from the trees when the file predates the field (it is then the same numbers).
  const importance = m.featureImportance ?? featureImportance(m.features, m.trees);
  const totalGain = importance.reduce((s, f) => s + f.gain, 0);
  const totalSplits = importance.reduce((s, f) => s + f.splits, 0);
  return {
    objective: m.objective,
    label: m.label,
    classes: m.classes,
    features: m.features.map((f) =>
      f.kind === "categorical" ? { name: f.name, kind: f.kind, categories: f.categories.length } : { name: f.name, kind: f.kind },
    ),
    trees: m.trees.length,
    rounds: m.training.rounds,
    leaves: m.trees.reduce((s, t) => s + t.feature.filter((f) => f < 0).length, 0),
    training: m.training,
    hyperparameters: m.hyperparameters,
    metrics: m.metrics,
    importance: importance
      .map((f) => ({ ...f, gainShare: totalGain > 0 ? f.gain / totalGain : 0, splitShare: totalSplits > 0 ? f.splits / totalSplits : 0 }))
      .sort((a, b) => b.gain - a.gain || b.splits - a.splits),
  };
}
