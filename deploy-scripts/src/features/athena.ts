// The training set in the cloud: the labels go to S3 as an external table next to the offline
// store's Glue table, Athena runs the point-in-time query over both, and the result is split into
// the training-set prefix's channels. The offline store's table is found from the FeatureGroup itself.
// The stack's workgroup enforces its result location and encryption (infra's FeatureStore), so the
// requests carry no ResultConfiguration: Athena would ignore it (StartQueryExecution API reference,
// ResultConfiguration), and the deployer may write only the workgroup's result prefix.
import { GetQueryExecutionCommand, paginateGetQueryResults, StartQueryExecutionCommand, type AthenaClient } from "@aws-sdk/client-athena";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DescribeFeatureGroupCommand, type SageMakerClient } from "@aws-sdk/client-sagemaker";
import { DATASET_CHANNELS, FEATURE_LABELS_TABLE_PREFIX, type DatasetChannel, type FeatureSet } from "@ml-platform/contract";
import { joinS3, parseS3Uri } from "../aws/arn";
import { CliError } from "../errors";
import type { Output } from "../output";
import { pointInTimeSql, resultColumns } from "./sql";
import { trainingSetFiles } from "./training-set";

export interface AthenaDatasetOptions {
  readonly set: FeatureSet;
  readonly featureGroupName: string;
  /** The label source's CSV text (header: record identifier, label time, label). */
  readonly labels: string;
  /** `s3://bucket/prefix`: the labels and the channels are written under it. */
  readonly output: string;
  /** The stack's workgroup (`featureQueryWorkgroup`), which sets where results go and their encryption. */
  readonly workgroup: string;
  /** The stack's key: the labels and the channels are encrypted with it. */
  readonly kmsKeyArn: string;
  /** Suffix of the temporary labels table, unique per run. */
  readonly runId: string;
  readonly clients: { readonly sagemaker: SageMakerClient; readonly athena: AthenaClient; readonly s3: S3Client };
  readonly sleep: (ms: number) => Promise<void>;
  readonly pollIntervalMs: number;
  readonly out: Output;
}

export interface AthenaDatasetResult {
  readonly queryExecutionId: string;
  readonly channels: Record<DatasetChannel, { uri: string; rows: number }>;
}

export async function athenaTrainingSet(opts: AthenaDatasetOptions): Promise<AthenaDatasetResult> {
  const { set, clients, out } = opts;
  const group = await clients.sagemaker.send(new DescribeFeatureGroupCommand({ FeatureGroupName: opts.featureGroupName }));
  const catalog = group.OfflineStoreConfig?.DataCatalogConfig;
  if (!catalog?.Database || !catalog.TableName)
    throw new CliError(`feature group ${opts.featureGroupName} has no offline store in the Glue catalog: a training set is built from the offline store`);
  if (group.FeatureGroupStatus !== "Created")
    throw new CliError(`feature group ${opts.featureGroupName} is ${group.FeatureGroupStatus ?? "in an unknown state"}, not Created`);

  const labelsPrefix = joinS3(opts.output, "labels", opts.runId);
  const labelsObject = parseS3Uri(joinS3(labelsPrefix, "labels.csv"));
  out.step(`Uploading the labels to ${labelsPrefix}/`);
  await clients.s3.send(
    new PutObjectCommand({ Bucket: labelsObject.bucket, Key: labelsObject.key, Body: opts.labels, ContentType: "text/csv", ...sse(opts.kmsKeyArn) }),
  );

  const labelsTable = labelsTableName(opts.runId);
  const database = catalog.Database;
  const run = (sql: string, what: string) => runQuery(opts, sql, what, catalog.Catalog ?? "AwsDataCatalog", database);
  await run(labelsTableDdl(set, database, labelsTable, `${labelsPrefix}/`), `creating the labels table ${database}.${labelsTable}`);
  let queryExecutionId: string;
  let rows: string[][];
  try {
    queryExecutionId = await run(
      pointInTimeSql(set, { features: `"${database}"."${catalog.TableName}"`, labels: `"${database}"."${labelsTable}"` }),
      `joining the labels point-in-time with ${database}.${catalog.TableName}`,
    );
    rows = await readResults(opts.clients.athena, queryExecutionId, resultColumns(set));
  } finally {
    await run(`DROP TABLE IF EXISTS \`${database}\`.\`${labelsTable}\``, `dropping ${database}.${labelsTable}`);
  }
  const files = trainingSetFiles(set, resultColumns(set), rows);
  const channels = {} as Record<DatasetChannel, { uri: string; rows: number }>;
  for (const channel of DATASET_CHANNELS) {
    const uri = joinS3(opts.output, channel, `${channel}.csv`);
    const loc = parseS3Uri(uri);
    await clients.s3.send(
      new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: files.channels[channel], ContentType: "text/csv", ...sse(opts.kmsKeyArn) }),
    );
    out.info(`${uri}: ${files.rows[channel]} rows`);
    channels[channel] = { uri, rows: files.rows[channel] };
  }
  return { queryExecutionId, channels };
}

/** The temporary labels table of a run: `labels_<run>`, in Glue's lower case with underscores. */
export function labelsTableName(runId: string): string {
  return `${FEATURE_LABELS_TABLE_PREFIX}${runId.replace(/[^a-z0-9]/gi, "_").toLowerCase()}`;
}

const sse = (key: string) => ({ ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: key });

/** An external table over the uploaded labels CSV (Hive DDL: Athena's DDL dialect uses backticks). */
export function labelsTableDdl(set: FeatureSet, database: string, table: string, location: string): string {
  const labelType = set.label.type === "integral" ? "bigint" : "double";
  return `CREATE EXTERNAL TABLE \`${database}\`.\`${table}\` (\`${set.entity.recordIdentifier}\` string, \`${set.label.eventTime}\` string, \`${set.label.name}\` ${labelType})
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
LOCATION '${location}'
TBLPROPERTIES ('skip.header.line.count'='1')`;
}

async function runQuery(opts: AthenaDatasetOptions, sql: string, what: string, catalog: string, database: string): Promise<string> {
  opts.out.step(`Athena: ${what}`);
  const started = await opts.clients.athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: opts.workgroup,
      QueryExecutionContext: { Catalog: catalog, Database: database },
    }),
  );
  const id = started.QueryExecutionId;
  if (!id) throw new CliError(`Athena returned no query execution id while ${what}`);
  for (;;) {
    const { QueryExecution: q } = await opts.clients.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = q?.Status?.State;
    if (state === "SUCCEEDED") return id;
    if (state === "FAILED" || state === "CANCELLED")
      throw new CliError(`Athena query ${id} ${state.toLowerCase()} while ${what}: ${q?.Status?.StateChangeReason ?? "no reason given"}`, {
        details: q?.Status?.AthenaError?.ErrorMessage ? [q.Status.AthenaError.ErrorMessage] : [],
      });
    await opts.sleep(opts.pollIntervalMs);
  }
}

/** Every result row as text (Athena returns the header as the first row of the first page). */
async function readResults(athena: AthenaClient, queryExecutionId: string, columns: readonly string[]): Promise<string[][]> {
  const rows: string[][] = [];
  for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId: queryExecutionId })) {
    for (const row of page.ResultSet?.Rows ?? []) rows.push((row.Data ?? []).map((d) => d.VarCharValue ?? ""));
  }
  const header = rows.shift();
  if (header?.join(",") !== columns.join(","))
    throw new CliError(`Athena query ${queryExecutionId} returned columns ${header?.join(", ")}; expected ${columns.join(", ")}`);
  return rows;
}
