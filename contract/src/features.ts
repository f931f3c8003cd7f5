// A feature set, declared once (e.g. examples/flight-delays/features.yaml): its entity, event time,
// features and label. Everything else is derived from it here, so the cloud FeatureGroup, the local
// store's table, the training set's columns and ml-core's categorical columns cannot drift apart.
// Pure: the YAML file is read by the package that reads files; `parseFeatureSet` takes its object.
import { z } from "zod";

/** Feature types as declared; each maps to one SageMaker `FeatureType`. */
export const FEATURE_TYPES = ["integral", "fractional", "string"] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

/** SageMaker `FeatureDefinition.FeatureType` (the SDK's `FeatureType` enum values). */
export type SageMakerFeatureType = "Integral" | "Fractional" | "String";
const SAGEMAKER_FEATURE_TYPE: Readonly<Record<FeatureType, SageMakerFeatureType>> = { integral: "Integral", fractional: "Fractional", string: "String" };

/**
 * Column types of the offline store's Glue table (Athena reads them as these) and of the local
 * store's DuckDB table, which has the same shape so one query runs on both.
 */
const OFFLINE_COLUMN_TYPE: Readonly<Record<FeatureType, { glue: string; duckdb: string }>> = {
  integral: { glue: "bigint", duckdb: "BIGINT" },
  fractional: { glue: "double", duckdb: "DOUBLE" },
  string: { glue: "string", duckdb: "VARCHAR" },
};

/**
 * Columns SageMaker Feature Store adds to every record in the offline store (the SageMaker
 * Developer Guide, "Feature Store offline store data format"); no feature may use these names.
 */
export const OFFLINE_STORE_COLUMNS = {
  /** When the service received the PutRecord or DeleteRecord call: orders two writes with one event time. */
  apiInvocationTime: "api_invocation_time",
  /** When the record reached the offline store. */
  writeTime: "write_time",
  /** True on the marker a DeleteRecord appends: the entity has no values from its event time on. */
  isDeleted: "is_deleted",
} as const;
const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.values(OFFLINE_STORE_COLUMNS));

/**
 * Feature and feature group names. SageMaker allows `[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}`; the Glue
 * catalog lowercases column names and SQL reads `-` as minus, so features are narrowed to lowercase
 * letters, digits and single underscores: the same name in the record, the table and the query.
 */
export const FEATURE_NAME = /^[a-z](?:_?[a-z0-9]){0,63}$/;
/** SageMaker's FeatureGroupName pattern (CreateFeatureGroup API reference). */
export const FEATURE_GROUP_NAME = /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]){0,63}$/;
/** A FeatureGroup holds at most 2,500 features (CreateFeatureGroup: FeatureDefinitions, 1–2500). */
export const MAX_FEATURE_DEFINITIONS = 2500;

/**
 * Event times are UTC ISO-8601 to the second, `yyyy-MM-ddTHH:mm:ssZ`: one of the String formats
 * SageMaker accepts for an event time, and one whose text order is its time order, so the
 * point-in-time comparison is the same plain `<=` in Athena and DuckDB.
 */
export const EVENT_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/;

const name = z.string().regex(FEATURE_NAME, "must be lowercase letters, digits and single '_', starting with a letter, at most 64 characters");
const description = z.string().trim().min(1, "must describe the value in words");

const featureDefinitionSchema = z
  .strictObject({
    name,
    type: z.enum(FEATURE_TYPES),
    description,
    /** Whether ml-core treats the values as categories; `string` features always are. */
    categorical: z.boolean().optional(),
  })
  .transform((f) => ({ ...f, categorical: f.categorical ?? f.type === "string" }));

/** The schema of a feature-set file. Parse with `parseFeatureSet` for messages that name the file. */
export const featureSetSchema = z
  .strictObject({
    /** The FeatureGroup's name in the cloud and the local store's table name. */
    name: z.string().regex(FEATURE_GROUP_NAME, "must be letters and digits, optionally joined by '-' or '_', at most 64 characters"),
    description,
    entity: z.strictObject({
      /** What one record describes, in words and as a noun: `flight`. */
      name,
      description,
      /** The feature that identifies the entity (SageMaker `RecordIdentifierFeatureName`), a string. */
      recordIdentifier: name,
    }),
    /** The feature that holds each record's event time (SageMaker `EventTimeFeatureName`), see `EVENT_TIME`. */
    eventTime: name,
    features: z
      .array(featureDefinitionSchema)
      .min(1)
      .max(MAX_FEATURE_DEFINITIONS - 2),
    label: z.strictObject({
      /** The label column in the source and the training set. */
      name,
      type: z.enum(["integral", "fractional"]),
      description,
      /**
       * The labelled events: a CSV with the record identifier, `eventTime` and the label, one row per
       * example. Relative to the feature-set file.
       */
      source: z.string().min(1),
      /** The source's column with each label's time: features are joined as of this instant. */
      eventTime: name,
    }),
    training: z
      .strictObject({
        /** Labels at or after this time form the validation channel; earlier ones train. */
        validationFrom: z.string().regex(EVENT_TIME, "must be a UTC time yyyy-MM-ddTHH:mm:ssZ"),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, string>();
    const claim = (n: string, path: PropertyKey[], what: string) => {
      const owner = seen.get(n);
      if (owner) ctx.addIssue({ code: "custom", path, message: `("${n}") is already the name of ${owner}` });
      else seen.set(n, what);
    };
    claim(s.entity.recordIdentifier, ["entity", "recordIdentifier"], "the record identifier");
    claim(s.eventTime, ["eventTime"], "the event time");
    s.features.forEach((f, i) => {
      if (RESERVED_NAMES.has(f.name))
        ctx.addIssue({ code: "custom", path: ["features", i, "name"], message: `("${f.name}") is a column the offline store adds to every record` });
      else claim(f.name, ["features", i, "name"], `features[${i}]`);
      if (f.type === "string" && !f.categorical)
        ctx.addIssue({
          code: "custom",
          path: ["features", i, "categorical"],
          message: "(false) cannot apply to a string feature: ml-core trains on numbers and categories only",
        });
    });
    if (s.label.name === s.entity.recordIdentifier || s.label.name === s.label.eventTime || s.features.some((f) => f.name === s.label.name))
      ctx.addIssue({
        code: "custom",
        path: ["label", "name"],
        message: `("${s.label.name}") must differ from the record identifier, the label's event time and every feature`,
      });
    if (s.label.eventTime === s.entity.recordIdentifier)
      ctx.addIssue({ code: "custom", path: ["label", "eventTime"], message: `("${s.label.eventTime}") must differ from the record identifier` });
  });

export type FeatureSet = z.output<typeof featureSetSchema>;
export type FeatureDefinition = FeatureSet["features"][number];

/** A feature-set file was rejected; the message lists every problem, one a line, each naming the file and key. */
export class FeatureSetError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid feature set ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
    this.name = "FeatureSetError";
  }
}

/** Validates a parsed feature-set file; throws a `FeatureSetError` naming `file` and each key path. */
export function parseFeatureSet(value: unknown, file: string): FeatureSet {
  const parsed = featureSetSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    const at = (path: readonly PropertyKey[]) =>
      path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("") || "(the file)";
    if (issue.code === "unrecognized_keys") return issue.keys.map((k) => `${file}: ${at([...issue.path, k])} is not a known key`);
    return [`${file}: ${at(issue.path)} ${issue.message}`];
  });
  throw new FeatureSetError(file, problems);
}

/** The FeatureGroup's `featureDefinitions`: record identifier, event time, then the features in order. */
export function featureGroupDefinitions(set: FeatureSet): Array<{ featureName: string; featureType: SageMakerFeatureType }> {
  return [
    { featureName: set.entity.recordIdentifier, featureType: "String" },
    { featureName: set.eventTime, featureType: "String" },
    ...set.features.map((f) => ({ featureName: f.name, featureType: SAGEMAKER_FEATURE_TYPE[f.type] })),
  ];
}

/** Columns of the offline store's table, in the order the FeatureGroup defines them, then the store's own. */
export function offlineStoreColumns(set: FeatureSet, dialect: "glue" | "duckdb"): Array<{ name: string; type: string }> {
  const str = OFFLINE_COLUMN_TYPE.string[dialect];
  return [
    { name: set.entity.recordIdentifier, type: str },
    { name: set.eventTime, type: str },
    ...set.features.map((f) => ({ name: f.name, type: OFFLINE_COLUMN_TYPE[f.type][dialect] })),
    { name: OFFLINE_STORE_COLUMNS.apiInvocationTime, type: dialect === "glue" ? "timestamp" : "TIMESTAMP" },
    { name: OFFLINE_STORE_COLUMNS.writeTime, type: dialect === "glue" ? "timestamp" : "TIMESTAMP" },
    { name: OFFLINE_STORE_COLUMNS.isDeleted, type: dialect === "glue" ? "boolean" : "BOOLEAN" },
  ];
}

/** The training set's columns, in order: every feature as declared, then the label (ml-core's `label`). */
export function trainingColumns(set: FeatureSet): string[] {
  return [...set.features.map((f) => f.name), set.label.name];
}

/** ml-core's `categorical_columns` hyperparameter: the categorical features, comma-separated. */
export function categoricalColumns(set: FeatureSet): string {
  return set.features
    .filter((f) => f.categorical)
    .map((f) => f.name)
    .join(",");
}

/**
 * What a model trained on this feature set depends on: the columns, their types and how ml-core
 * reads them, in order. Descriptions are left out: rewording one does not change the model's inputs.
 * A model records a digest of this at training; promotion compares it with the current definition.
 */
export function featureSchema(set: FeatureSet): {
  name: string;
  recordIdentifier: string;
  eventTime: string;
  features: Array<{ name: string; type: FeatureType; categorical: boolean }>;
  label: { name: string; type: FeatureType };
} {
  return {
    name: set.name,
    recordIdentifier: set.entity.recordIdentifier,
    eventTime: set.eventTime,
    features: set.features.map((f) => ({ name: f.name, type: f.type, categorical: f.categorical })),
    label: { name: set.label.name, type: set.label.type },
  };
}

/**
 * The FeatureGroup's physical name in a stack: fixed per stack like the endpoint's, so the tools
 * find it without a lookup. Throws when the feature set and stack names together exceed SageMaker's
 * 64 characters.
 */
export function featureGroupName(set: Pick<FeatureSet, "name">, stack: string): string {
  const name = `${set.name}-${stack}`;
  if (!FEATURE_GROUP_NAME.test(name))
    throw new Error(`feature group name "${name}" (feature set "${set.name}", stack "${stack}") does not match ${FEATURE_GROUP_NAME}`);
  return name;
}
