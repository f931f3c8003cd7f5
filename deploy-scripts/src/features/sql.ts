// The point-in-time join, as SQL generated from the definition. Two shapes with one meaning: for
// every label row, the latest record of its entity at or before the label's time, never after; a
// record SageMaker marked deleted (is_deleted) counts as "no values"; two writes with the same event
// time are ordered by api_invocation_time, then write_time, as the offline store orders them.
//
// - `pointInTimeSql`: window functions only (ANSI), what Athena (Trino) runs over the offline
//   store's Glue table; DuckDB runs the same text, which is how the tests compare the two.
// - `asofSql`: DuckDB's ASOF JOIN, the local store's query.
import { OFFLINE_STORE_COLUMNS, type FeatureSet } from "@ml-platform/contract";

/** A double-quoted SQL identifier (table or column); names are validated by the contract already. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A table reference: `"db"."table"` or `"table"`. */
export function tableRef(...parts: string[]): string {
  return parts.map(ident).join(".");
}

/** Columns every training-set query returns, in order: the entity, the label's time, the features, the label. */
export function resultColumns(set: FeatureSet): string[] {
  return [set.entity.recordIdentifier, set.label.eventTime, ...set.features.map((f) => f.name), set.label.name];
}

const { apiInvocationTime, writeTime, isDeleted } = OFFLINE_STORE_COLUMNS;

/** The feature values as of the chosen record: none when that record is a deletion marker. */
function featureSelect(set: FeatureSet, from: string): string {
  return set.features.map((f) => `CASE WHEN ${from}.${ident(isDeleted)} THEN NULL ELSE ${from}.${ident(f.name)} END AS ${ident(f.name)}`).join(",\n  ");
}

/** Rows in a stable order, so a training set is the same file from either store. */
function orderBy(set: FeatureSet, alias: string): string {
  return `ORDER BY ${alias}.${ident(set.label.eventTime)}, ${alias}.${ident(set.entity.recordIdentifier)}, ${alias}.${ident(set.label.name)}`;
}

/** The training set with window functions: Athena over the offline store's table, or DuckDB over the local one. */
export function pointInTimeSql(set: FeatureSet, tables: { features: string; labels: string }): string {
  const id = ident(set.entity.recordIdentifier);
  const eventTime = ident(set.eventTime);
  const labelTime = ident(set.label.eventTime);
  const label = ident(set.label.name);
  const featureColumns = set.features.map((f) => `f.${ident(f.name)}`).join(", ");
  return `WITH labels AS (
  SELECT ${id}, ${labelTime}, ${label}, row_number() OVER () AS label_row
  FROM ${tables.labels}
),
candidates AS (
  SELECT l.label_row, l.${id}, l.${labelTime}, l.${label}, ${featureColumns}, f.${ident(isDeleted)},
    row_number() OVER (PARTITION BY l.label_row ORDER BY f.${eventTime} DESC, f.${ident(apiInvocationTime)} DESC, f.${ident(writeTime)} DESC) AS recency
  FROM labels l
  LEFT JOIN ${tables.features} f ON f.${id} = l.${id} AND f.${eventTime} <= l.${labelTime}
)
SELECT c.${id}, c.${labelTime},
  ${featureSelect(set, "c")},
  c.${label}
FROM candidates c
WHERE c.recency = 1
${orderBy(set, "c")}`;
}

/** The training set with DuckDB's ASOF JOIN (the local store). */
export function asofSql(set: FeatureSet, tables: { features: string; labels: string }): string {
  const id = ident(set.entity.recordIdentifier);
  const eventTime = ident(set.eventTime);
  const labelTime = ident(set.label.eventTime);
  const label = ident(set.label.name);
  // ASOF picks one row per (entity, event time); a rewrite at the same event time must win first.
  return `WITH latest AS (
  SELECT * FROM ${tables.features}
  QUALIFY row_number() OVER (PARTITION BY ${id}, ${eventTime} ORDER BY ${ident(apiInvocationTime)} DESC, ${ident(writeTime)} DESC) = 1
)
SELECT l.${id}, l.${labelTime},
  ${featureSelect(set, "f")},
  l.${label}
FROM ${tables.labels} l
ASOF LEFT JOIN latest f ON l.${id} = f.${id} AND l.${labelTime} >= f.${eventTime}
${orderBy(set, "l")}`;
}
