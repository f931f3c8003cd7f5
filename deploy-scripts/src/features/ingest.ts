// `ml-deploy features ingest`: a CSV of feature records into a stack's feature group. Every row is
// checked against the feature-set file first; the first schema error stops the run with its file,
// line and column, before anything is written. Then the records go through the Feature Store
// runtime's PutRecord, a bounded number at a time, retrying throttled calls with backoff.
import * as fs from "node:fs";
import * as path from "node:path";
import { CsvError, parse } from "csv-parse/sync";
import { DescribeFeatureGroupCommand } from "@aws-sdk/client-sagemaker";
import { PutRecordCommand, type FeatureValue, type SageMakerFeatureStoreRuntimeClient } from "@aws-sdk/client-sagemaker-featurestore-runtime";
import { EVENT_TIME, featureGroupDefinitions, type FeatureSet } from "@ml-platform/contract";
import type { Context } from "../context";
import { CliError, describeError } from "../errors";
import { readStackOutputs } from "../stacks/gateway";
import { loadFeatureSet } from "./definition";

/** One record ready for PutRecord, with the line it came from. */
export interface FeatureRecord {
  readonly line: number;
  readonly values: FeatureValue[];
}

/**
 * Reads and checks every row of a feature-records CSV against the feature set: a header naming the
 * record identifier, the event time and only declared features; per row an identifier, an event
 * time as the feature set defines it, and values of each feature's type (an empty cell is a
 * missing value, which Feature Store allows for features). Throws a CliError naming
 * `<file>:<line>:<column>` at the first problem, so nothing is written from a bad file.
 */
export function readFeatureRecords(set: FeatureSet, text: string, file: string): FeatureRecord[] {
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    rows = parse(text, { info: true, skip_empty_lines: true, bom: true }) as never;
  } catch (err) {
    if (err instanceof CsvError) throw new CliError(`${file}:${(err as CsvError & { lines?: number }).lines ?? "?"}: not valid CSV: ${err.message}`);
    throw err;
  }
  if (rows.length === 0) throw new CliError(`${file}: empty, expected a header and records`);
  const header = rows[0]!.record;
  const types = new Map<string, "integral" | "fractional" | "string">([
    [set.entity.recordIdentifier, "string"],
    [set.eventTime, "string"],
    ...set.features.map((f) => [f.name, f.type] as const),
  ]);
  const headerLine = rows[0]!.info.lines;
  header.forEach((name, i) => {
    if (!types.has(name)) throw new CliError(`${file}:${headerLine}:${i + 1}: column "${name}" is not a feature of ${set.name} (see its feature-set file)`);
    if (header.indexOf(name) !== i) throw new CliError(`${file}:${headerLine}:${i + 1}: column "${name}" appears twice`);
  });
  for (const required of [set.entity.recordIdentifier, set.eventTime]) {
    if (!header.includes(required)) throw new CliError(`${file}:${headerLine}: the header has no "${required}" column (every record needs it)`);
  }
  return rows.slice(1).map(({ record, info }) => {
    const line = info.lines;
    const values: FeatureValue[] = [];
    record.forEach((value, i) => {
      const name = header[i]!;
      const where = `${file}:${line}:${i + 1}`;
      if (value === "") {
        if (name === set.entity.recordIdentifier || name === set.eventTime) throw new CliError(`${where}: ${name} is empty (every record needs it)`);
        return;
      }
      const problem =
        name === set.eventTime ? (EVENT_TIME.test(value) ? undefined : "must be a UTC time yyyy-MM-ddTHH:mm:ssZ") : valueProblem(types.get(name)!, value);
      if (problem) throw new CliError(`${where}: ${name} (${JSON.stringify(value)}) ${problem}`);
      values.push({ FeatureName: name, ValueAsString: value });
    });
    return { line, values };
  });
}

function valueProblem(type: "integral" | "fractional" | "string", value: string): string | undefined {
  if (type === "integral") return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? undefined : "must be a whole number";
  if (type === "fractional") return value.trim() !== "" && Number.isFinite(Number(value)) ? undefined : "must be a finite number";
  return undefined;
}

/**
 * The runtime's errors worth retrying: throttling and transient service faults (Feature Store
 * runtime API reference, PutRecord errors: ThrottlingException, ServiceUnavailable, InternalFailure).
 */
const RETRYABLE = new Set(["ThrottlingException", "ServiceUnavailable", "InternalFailure"]);
/** Errors that every further record would hit too: stop instead of rejecting record after record. */
const FATAL = new Set(["ResourceNotFound", "AccessForbidden", "AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"]);

export interface WriteOptions {
  readonly client: SageMakerFeatureStoreRuntimeClient;
  readonly featureGroupName: string;
  /** PutRecord calls in flight at once. */
  readonly concurrency: number;
  /** Attempts per record, the first included. */
  readonly maxAttempts: number;
  /** First backoff; doubles per attempt, with full jitter, capped at 20 s. */
  readonly baseDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Called after every finished record. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Rejection {
  readonly line: number;
  readonly reason: string;
}

export interface WriteSummary {
  readonly written: number;
  readonly rejected: number;
  /** Attempts that were throttled or failed transiently and were retried. */
  readonly retries: number;
  /** The rejected records by reason (the error's name and message), each with the first lines it hit. */
  readonly rejections: Array<{ reason: string; count: number; lines: number[] }>;
}

const MAX_BACKOFF_MS = 20_000;

/** Writes the records with at most `concurrency` calls in flight; a record that cannot be written is rejected, not retried forever. */
export async function writeRecords(records: readonly FeatureRecord[], opts: WriteOptions): Promise<WriteSummary> {
  const random = opts.random ?? Math.random;
  let next = 0;
  let done = 0;
  let written = 0;
  let retries = 0;
  const rejected: Rejection[] = [];
  let fatal: unknown;

  const writeOne = async (record: FeatureRecord) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await opts.client.send(new PutRecordCommand({ FeatureGroupName: opts.featureGroupName, Record: record.values }));
        written++;
        return;
      } catch (err) {
        const name = (err as Error).name;
        if (FATAL.has(name)) throw err;
        if (!RETRYABLE.has(name) || attempt >= opts.maxAttempts) {
          rejected.push({ line: record.line, reason: attempt > 1 ? `${describeError(err)} (after ${attempt} attempts)` : describeError(err) });
          return;
        }
        retries++;
        await opts.sleep(Math.floor(random() * Math.min(MAX_BACKOFF_MS, opts.baseDelayMs * 2 ** (attempt - 1))));
      }
    }
  };
  const worker = async () => {
    while (fatal === undefined && next < records.length) {
      const record = records[next++]!;
      try {
        await writeOne(record);
      } catch (err) {
        fatal = err;
        return;
      }
      opts.onProgress?.(++done, records.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, records.length) }, worker));
  if (fatal !== undefined)
    throw new CliError(`writing to feature group ${opts.featureGroupName} failed: ${describeError(fatal)}`, {
      details: [
        `${written} records were written before the failure; PutRecord is idempotent per record identifier and event time, so the file can be ingested again`,
      ],
      cause: fatal,
    });
  const byReason = new Map<string, number[]>();
  for (const r of rejected) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.line]);
  return {
    written,
    rejected: rejected.length,
    retries,
    rejections: [...byReason].map(([reason, lines]) => ({ reason, count: lines.length, lines: lines.sort((a, b) => a - b).slice(0, 10) })),
  };
}

/** The group's definitions as SageMaker holds them must be the feature set's: else the file and the stack have drifted apart. */
export function definitionDrift(set: FeatureSet, described: ReadonlyArray<{ FeatureName?: string; FeatureType?: string }>): string[] {
  const want = new Map(featureGroupDefinitions(set).map((d) => [d.featureName, d.featureType]));
  const have = new Map(described.map((d) => [d.FeatureName ?? "", d.FeatureType ?? ""]));
  const problems: string[] = [];
  for (const [name, type] of want) {
    if (!have.has(name)) problems.push(`${name}: declared in the feature set, missing from the feature group`);
    else if (have.get(name) !== type) problems.push(`${name}: ${type} in the feature set, ${have.get(name)} in the feature group`);
  }
  for (const name of have.keys()) if (!want.has(name)) problems.push(`${name}: in the feature group, not in the feature set`);
  return problems;
}

export interface IngestOptions {
  stack: string;
  /** The feature-set file. */
  definition: string;
  /** The feature-records CSV. */
  input: string;
  concurrency: number;
  maxAttempts: number;
  json?: boolean;
}

export interface IngestResult extends WriteSummary {
  readonly stack: string;
  readonly featureSet: string;
  readonly featureGroupName: string;
  readonly input: string;
  readonly records: number;
}

export async function featuresIngest(ctx: Context, opts: IngestOptions): Promise<IngestResult> {
  const { set } = loadFeatureSet(path.resolve(ctx.repoRoot, opts.definition));
  const input = path.resolve(ctx.repoRoot, opts.input);
  let text: string;
  try {
    text = fs.readFileSync(input, "utf8");
  } catch (err) {
    throw new CliError(`cannot read the feature records ${opts.input}: ${(err as Error).message}`);
  }
  ctx.out.step(`Checking ${opts.input} against the feature set ${set.name}`);
  const records = readFeatureRecords(set, text, opts.input);
  ctx.out.info(`${records.length} records, every one valid`);

  const outputs = await readStackOutputs(ctx.stacks, opts.stack);
  const group = outputs.featureGroups?.[set.name];
  if (!group)
    throw new CliError(`stack ${opts.stack} has no feature group for the feature set ${set.name}`, {
      hint: `list its file under mlPlatform:featureStore.featureSets in stacks/Pulumi.${opts.stack}.yaml and run \`pulumi up\``,
    });
  const described = await ctx.aws.sagemaker(outputs.region).send(new DescribeFeatureGroupCommand({ FeatureGroupName: group.featureGroupName }));
  if (described.FeatureGroupStatus !== "Created")
    throw new CliError(`feature group ${group.featureGroupName} is ${described.FeatureGroupStatus ?? "in an unknown state"}, not Created`);
  const drift = definitionDrift(set, described.FeatureDefinitions ?? []);
  if (drift.length > 0)
    throw new CliError(`feature group ${group.featureGroupName} does not match ${opts.definition}`, {
      details: drift,
      hint: `\`pulumi up\` the stack with this feature-set file first`,
    });

  ctx.out.step(`Writing ${records.length} records to ${group.featureGroupName} (${opts.concurrency} at a time)`);
  const every = Math.max(1, Math.floor(records.length / 20));
  const summary = await writeRecords(records, {
    client: ctx.aws.featureStoreRuntime(outputs.region),
    featureGroupName: group.featureGroupName,
    concurrency: opts.concurrency,
    maxAttempts: opts.maxAttempts,
    baseDelayMs: 100,
    sleep: ctx.sleep,
    onProgress: (done, total) => {
      if (done % every === 0 || done === total) ctx.out.info(`${done}/${total} records (${Math.floor((100 * done) / total)}%)`);
    },
  });
  return { stack: opts.stack, featureSet: set.name, featureGroupName: group.featureGroupName, input: opts.input, records: records.length, ...summary };
}
