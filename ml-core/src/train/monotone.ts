/**
 * `monotone_constraints`: per feature, 1 (predictions only rise with it), -1 (only fall) or 0.
 * Written by name (`distance:1,age:-1`, the others free) or by position for every feature
 * (`(1,0,-1)` or `1,0,-1`, XGBoost's form). Parsed without the data (so the deploy tools refuse a
 * bad value before a job starts), resolved against the features once the data is read.
 */
import type { ColumnSpec } from "../data/table";

export type MonotoneSpec = { readonly byName: ReadonlyMap<string, number> } | { readonly positional: readonly number[] };

/** The spec, or a sentence saying what is wrong; undefined for an empty value. */
export function parseMonotoneConstraints(text: string): MonotoneSpec | string | undefined {
  const body = text
    .trim()
    .replace(/^\((.*)\)$/, "$1")
    .trim();
  if (body === "") return undefined;
  const items = body.split(",").map((s) => s.trim());
  const direction = (s: string): number | undefined => (s === "1" || s === "+1" ? 1 : s === "-1" ? -1 : s === "0" ? 0 : undefined);
  if (items.every((s) => !s.includes(":"))) {
    const positional = items.map(direction);
    const bad = items.find((_, i) => positional[i] === undefined);
    if (bad !== undefined) return `${JSON.stringify(bad)} is not 1, -1 or 0`;
    return { positional: positional as number[] };
  }
  const byName = new Map<string, number>();
  for (const item of items) {
    const colon = item.lastIndexOf(":");
    const name = item.slice(0, colon).trim();
    const d = colon > 0 ? direction(item.slice(colon + 1).trim()) : undefined;
    if (colon <= 0 || name === "" || d === undefined)
      return `${JSON.stringify(item)} is not feature:1, feature:-1 or feature:0 (or give one 1, -1 or 0 per feature, in order)`;
    if (byName.has(name)) return `feature "${name}" is listed twice`;
    byName.set(name, d);
  }
  return { byName };
}

/** Per feature (schema order) its direction; undefined when no feature is constrained. */
export function resolveMonotoneConstraints(spec: MonotoneSpec | undefined, features: readonly ColumnSpec[]): Int8Array | undefined {
  if (spec === undefined) return undefined;
  const out = new Int8Array(features.length);
  const problems: string[] = [];
  if ("positional" in spec) {
    if (spec.positional.length !== features.length)
      problems.push(`monotone_constraints: ${spec.positional.length} values for ${features.length} features (${features.map((f) => f.name).join(", ")})`);
    else spec.positional.forEach((d, i) => (out[i] = d));
  } else {
    for (const [name, d] of spec.byName) {
      const i = features.findIndex((f) => f.name === name);
      if (i < 0) problems.push(`monotone_constraints: "${name}" is not a feature; features are: ${features.map((f) => f.name).join(", ")}`);
      else out[i] = d;
    }
  }
  features.forEach((f, i) => {
    if (out[i] !== 0 && f.kind === "categorical") problems.push(`monotone_constraints: "${f.name}" is categorical; categories have no order to be monotone in`);
  });
  if (problems.length > 0) throw new RangeError(problems.join("\n"));
  return out.some((d) => d !== 0) ? out : undefined;
}
