import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeFeatureGroupCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { categoricalColumns, featureGroupDefinitions, parseFeatureSet, trainingColumns, type FeatureSet } from "@ml-platform/contract";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../src/errors";
import { athenaTrainingSet, labelsTableName } from "../src/features/athena";
import { trainingSetOutput } from "../src/features/dataset";
import * as lib from "../src/index";
import { bucket, kmsKey, World } from "./world";
import { featureSchemaHash, loadFeatureSet } from "../src/features/definition";
import { LocalFeatureStore } from "../src/features/local-store";
import { featureSchemaCheck } from "../src/features/schema-check";
import { ident, pointInTimeSql, resultColumns } from "../src/features/sql";
import { FEATURE_META, trainingOnFeatureSet, trainingSetFiles } from "../src/features/training-set";
import { createOutput } from "../src/output";

const REPO = path.resolve(__dirname, "..", "..");
const EXAMPLE = path.join(REPO, "examples", "flight-delays", "features.yaml");
const RECORDS = path.join(REPO, "examples", "flight-delays", "data", "feature-records.csv");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "features-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
};
const quiet = createOutput({ stdout: { write: () => true }, stderr: { write: () => true } } as never);

/** A small feature set: one numeric feature that changes over time, one category. */
const SMALL = {
  name: "accounts",
  description: "Accounts.",
  entity: { name: "account", description: "A customer account.", recordIdentifier: "account_id" },
  eventTime: "event_time",
  features: [
    { name: "balance", type: "fractional", description: "Balance in EUR." },
    { name: "tier", type: "string", description: "Plan tier." },
  ],
  label: { name: "churned", type: "integral", description: "Left within 30 days.", source: "labels.csv", eventTime: "label_time" },
  training: { validationFrom: "2024-06-01T00:00:00Z" },
};
const small = parseFeatureSet(SMALL, "accounts.yaml");

describe("the feature-set definition", () => {
  const example = loadFeatureSet(EXAMPLE).set;

  it("derives the FeatureGroup, the training columns and ml-core's categorical_columns from one file", () => {
    expect(featureGroupDefinitions(example)).toEqual([
      { featureName: "flight_id", featureType: "String" },
      { featureName: "event_time", featureType: "String" },
      { featureName: "departure_hour", featureType: "Fractional" },
      { featureName: "weekday", featureType: "String" },
      { featureName: "month", featureType: "String" },
      { featureName: "distance", featureType: "Integral" },
      { featureName: "origin", featureType: "String" },
      { featureName: "destination", featureType: "String" },
      { featureName: "origin_delayed_share_24h", featureType: "Fractional" },
    ]);
    expect(trainingColumns(example)).toEqual([
      "departure_hour",
      "weekday",
      "month",
      "distance",
      "origin",
      "destination",
      "origin_delayed_share_24h",
      "delayed",
    ]);
    expect(categoricalColumns(example)).toBe("weekday,month,origin,destination");
    expect(trainingOnFeatureSet(example, "examples/flight-delays/features.yaml").hyperparameters).toEqual({
      label: "delayed",
      categorical_columns: "weekday,month,origin,destination",
    });
  });

  const broken = (patch: (d: Record<string, any>) => void) => {
    const d = structuredClone(SMALL) as Record<string, any>;
    patch(d);
    return d;
  };
  it.each([
    [
      "an unknown type",
      broken((d) => (d.features[0].type = "float")),
      'accounts.yaml: features[0].type Invalid option: expected one of "integral"|"fractional"|"string"',
    ],
    [
      "a reserved name",
      broken((d) => (d.features[1].name = "write_time")),
      'accounts.yaml: features[1].name ("write_time") is a column the offline store adds to every record',
    ],
    ["a duplicate name", broken((d) => (d.features[1].name = "balance")), 'accounts.yaml: features[1].name ("balance") is already the name of features[0]'],
    ["an upper-case name", broken((d) => (d.features[0].name = "Balance")), "accounts.yaml: features[0].name must be lowercase letters"],
    [
      "a non-categorical string",
      broken((d) => (d.features[1].categorical = false)),
      "accounts.yaml: features[1].categorical (false) cannot apply to a string feature",
    ],
    ["an unknown key", broken((d) => (d.entity.key = "x")), "accounts.yaml: entity.key is not a known key"],
    ["a missing description", broken((d) => delete d.features[0].description), "accounts.yaml: features[0].description"],
    ["a label named like a feature", broken((d) => (d.label.name = "tier")), 'accounts.yaml: label.name ("tier") must differ'],
    [
      "a validation time with an offset",
      broken((d) => (d.training.validationFrom = "2024-06-01T00:00:00+02:00")),
      "accounts.yaml: training.validationFrom must be a UTC time",
    ],
  ])("rejects %s, naming the file and the key", (_, definition, message) => {
    expect(() => parseFeatureSet(definition, "accounts.yaml")).toThrow(message);
  });

  it("names the YAML file when it is not valid YAML", () => {
    expect(() => loadFeatureSet(write("bad.yaml", "name: [unclosed\n"))).toThrow(/bad\.yaml is not valid YAML/);
  });

  it("records a schema digest that ignores descriptions but not types, order or categories", () => {
    const reworded = parseFeatureSet({ ...SMALL, description: "Other words." }, "x");
    const retyped = parseFeatureSet({ ...SMALL, features: [{ ...SMALL.features[0], type: "integral" }, SMALL.features[1]] }, "x");
    const reordered = parseFeatureSet({ ...SMALL, features: [SMALL.features[1], SMALL.features[0]] }, "x");
    expect(featureSchemaHash(reworded)).toBe(featureSchemaHash(small));
    expect(new Set([small, retyped, reordered].map(featureSchemaHash)).size).toBe(3);
  });
});

// The leakage dataset: account a's balance is 10 at the label's time and becomes 999 (the churn
// outcome showing) one second after it; b's is rewritten twice at one event time, then deleted
// before its label; c has nothing at or before its label.
const RECORD_ROWS = [
  "account_id,event_time,balance,tier",
  "a,2024-05-01T00:00:00Z,10,gold",
  "a,2024-05-10T00:00:01Z,999,gold",
  "b,2024-05-01T00:00:00Z,5,free",
  "c,2024-05-20T00:00:00Z,7,free",
];
const LABEL_ROWS = [
  "account_id,label_time,churned",
  "a,2024-05-10T00:00:00Z,1",
  "b,2024-05-02T00:00:00Z,0",
  "b,2024-06-02T00:00:00Z,0",
  "c,2024-05-10T00:00:00Z,0",
];

describe("the point-in-time join", () => {
  let store: LocalFeatureStore;
  let labels: string;
  beforeAll(async () => {
    store = await LocalFeatureStore.open(":memory:");
    await store.ingest(small, write("records.csv", RECORD_ROWS.join("\n") + "\n"));
    // A rewrite of b's record at the same event time (a later PutRecord), and a deletion marker.
    await store.connection.run(
      `INSERT INTO accounts VALUES ('b', '2024-05-01T00:00:00Z', 6, 'free', now()::TIMESTAMP + INTERVAL 1 HOUR, now()::TIMESTAMP + INTERVAL 1 HOUR, false)`,
    );
    await store.connection.run(`INSERT INTO accounts VALUES ('b', '2024-06-01T00:00:00Z', NULL, NULL, now()::TIMESTAMP, now()::TIMESTAMP, true)`);
    labels = write("labels.csv", LABEL_ROWS.join("\n") + "\n");
  });
  afterAll(() => store.close());

  /** What a user relies on: no label row sees a value written after its time. */
  const expectNoLeak = (rows: string[][]) =>
    expect(rows).toEqual([
      ["b", "2024-05-02T00:00:00Z", "6", "free", "0"],
      ["a", "2024-05-10T00:00:00Z", "10", "gold", "1"],
      ["c", "2024-05-10T00:00:00Z", "", "", "0"],
      ["b", "2024-06-02T00:00:00Z", "", "", "0"],
    ]);

  it("joins the latest value at or before each label's time, never after (ASOF, the local store)", async () => {
    expectNoLeak((await store.trainingSet(small, labels)).rows);
  });

  it("gives the same rows with the Athena query's SQL, run on DuckDB", async () => {
    const table = await store.loadLabels(small, labels, "labels_sql");
    expectNoLeak((await store.query(resultColumns(small), pointInTimeSql(small, { features: ident("accounts"), labels: table }))).rows);
  });

  it("catches the naive latest-value join leaking the future (the counter-example)", async () => {
    const table = await store.loadLabels(small, labels, "labels_naive");
    const naive = `WITH latest AS (SELECT * FROM accounts QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY event_time DESC, api_invocation_time DESC) = 1)
      SELECT l.account_id, l.label_time, f.balance, f.tier, l.churned FROM ${table} l LEFT JOIN latest f USING (account_id) ORDER BY l.label_time, l.account_id, l.churned`;
    const { rows } = await store.query(resultColumns(small), naive);
    expect(rows.find((r) => r[0] === "a")![2]).toBe("999");
    expect(() => expectNoLeak(rows)).toThrow();
  });

  it("splits the training set at training.validationFrom into ml-core's channels", async () => {
    const { columns, rows } = await store.trainingSet(small, labels);
    const files = trainingSetFiles(small, columns, rows);
    expect(files.channels.train).toBe("balance,tier,churned\n6,free,0\n10,gold,1\n,,0\n");
    expect(files.channels.validation).toBe("balance,tier,churned\n,,0\n");
  });

  it("builds the same flight-delays training set from the local store and from the Athena query's SQL", async () => {
    const { set, labelsFile } = loadFeatureSet(EXAMPLE);
    const flights = await LocalFeatureStore.open(":memory:");
    try {
      expect(await flights.ingest(set, RECORDS)).toBe(40_000);
      const local = await flights.trainingSet(set, labelsFile);
      const athenaShape = await flights.query(resultColumns(set), pointInTimeSql(set, { features: ident(set.name), labels: "labels" }));
      expect(local.rows).toHaveLength(20_000);
      expect(athenaShape.rows).toEqual(local.rows);
      // Every flight gets its boarding-time record, never the rewrite after landing.
      const boarding = fs.readFileSync(RECORDS, "utf8").split("\n")[1]!.split(",");
      expect(boarding[0]).toBe("F00001");
      expect(local.rows.find((r) => r[0] === "F00001")!.slice(2)).toEqual([...boarding.slice(2), "1"]);
    } finally {
      flights.close();
    }
  });
});

describe("ingestion into the local store", () => {
  it.each([
    [
      "a bad event time",
      "a,2024-05-01 00:00:00,10,gold",
      /records-bad\.csv:3:2: column "event_time" \(column 2\) is not a UTC time yyyy-MM-ddTHH:mm:ssZ: "2024-05-01 00:00:00"/,
    ],
    ["a number that is not one", "a,2024-05-01T00:00:00Z,ten,gold", /records-bad\.csv:3:3: column "balance" \(column 3\) is not a number: "ten"/],
    ["a missing record identifier", ",2024-05-01T00:00:00Z,1,gold", /records-bad\.csv:3:1: column "account_id" \(column 1\) is empty/],
  ])("stops on %s with file, line and column, writing nothing", async (_, bad, message) => {
    const store = await LocalFeatureStore.open(":memory:");
    try {
      const file = write("records-bad.csv", [RECORD_ROWS[0], RECORD_ROWS[1], bad].join("\n") + "\n");
      const err = (await store.ingest(small, file).catch((e: unknown) => e)) as CliError;
      expect(err.details.join("\n")).toMatch(message);
      expect(Number((await store.connection.runAndReadAll("SELECT count(*) FROM accounts")).getRowsJS()[0]![0])).toBe(0);
    } finally {
      store.close();
    }
  });

  it("names a header that does not match the definition", async () => {
    const store = await LocalFeatureStore.open(":memory:");
    try {
      const err = (await store.ingest(small, write("records-header.csv", "account_id,event_time,balance,plan\n")).catch((e: unknown) => e)) as CliError;
      expect(err.message).toMatch(/records-header\.csv:1: the header must name exactly the columns/);
      expect(err.details).toEqual(['missing column "tier"', 'unknown column "plan"']);
    } finally {
      store.close();
    }
  });
});

describe("the training set in the cloud (Athena over the offline store)", () => {
  const sm = mockClient(SageMakerClient);
  const athena = mockClient(AthenaClient);
  const s3 = mockClient(S3Client);
  afterEach(() => [sm, athena, s3].forEach((m) => m.reset()));

  it("queries the FeatureGroup's Glue table point-in-time and writes each channel under the dataset prefix", async () => {
    // Athena is played by DuckDB: the offline store's table in schema "fs", the labels table
    // created from the uploaded CSV when the DDL arrives, the join query run as sent.
    const duck = await LocalFeatureStore.open(":memory:");
    await duck.connection.run("CREATE SCHEMA fs");
    await duck.ingest(small, write("records-cloud.csv", RECORD_ROWS.join("\n") + "\n"));
    await duck.connection.run("CREATE TABLE fs.accounts_1700000000 AS SELECT * FROM accounts");
    const uploads = new Map<string, string>();
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => void uploads.set(input.Key, input.Body));
    sm.on(DescribeFeatureGroupCommand, { FeatureGroupName: "accounts-dev" }).resolves({
      FeatureGroupStatus: "Created",
      OfflineStoreConfig: {
        S3StorageConfig: { S3Uri: "s3://b/fs" },
        DataCatalogConfig: { Catalog: "AwsDataCatalog", Database: "fs", TableName: "accounts_1700000000" },
      },
    });
    const results = new Map<string, string[][]>();
    const queries: string[] = [];
    athena.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString: string }) => {
      const id = `q${queries.push(input.QueryString)}`;
      const ddl = /^CREATE EXTERNAL TABLE `fs`\.`(\w+)`[\s\S]*LOCATION 's3:\/\/datasets-bucket\/([^']+)'/.exec(input.QueryString);
      if (ddl) await duck.loadLabels(small, write("uploaded.csv", uploads.get(`${ddl[2]}labels.csv`)!), `fs_${ddl[1]}`);
      else if (input.QueryString.startsWith("WITH")) {
        const sql = input.QueryString.replace(/"fs"\."(labels_\w+)"/, (_, t: string) => ident(`fs_${t}`));
        const { rows } = await duck.query(resultColumns(small), sql);
        results.set(id, [resultColumns(small), ...rows]);
      }
      return { QueryExecutionId: id };
    });
    let polls = 0;
    athena.on(GetQueryExecutionCommand).callsFake(() => ({ QueryExecution: { Status: { State: polls++ % 2 === 0 ? "RUNNING" : "SUCCEEDED" } } }));
    athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string; NextToken?: string }) => {
      const rows = results.get(input.QueryExecutionId)!;
      // Two pages, as Athena returns at most 1,000 rows each.
      const page = input.NextToken ? rows.slice(2) : rows.slice(0, 2);
      return {
        ResultSet: { Rows: page.map((r) => ({ Data: r.map((v) => (v === "" ? {} : { VarCharValue: v })) })) },
        NextToken: input.NextToken ? undefined : "next",
      };
    });

    const result = await athenaTrainingSet({
      set: small,
      featureGroupName: "accounts-dev",
      labels: LABEL_ROWS.join("\n") + "\n",
      output: "s3://datasets-bucket/datasets/accounts/v1",
      workgroup: "accounts-queries",
      kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
      runId: "accounts-1",
      clients: { sagemaker: new SageMakerClient({}), athena: new AthenaClient({}), s3: new S3Client({}) },
      sleep: async () => {},
      pollIntervalMs: 0,
      out: quiet,
    });
    duck.close();

    expect(queries).toHaveLength(3);
    expect(queries[2]).toBe("DROP TABLE IF EXISTS `fs`.`labels_accounts_1`");
    // The workgroup enforces where results go and their key (infra's FeatureStore): the request sets neither.
    for (const call of athena.commandCalls(StartQueryExecutionCommand)) {
      expect(call.args[0].input).toMatchObject({ WorkGroup: "accounts-queries", QueryExecutionContext: { Catalog: "AwsDataCatalog", Database: "fs" } });
      expect(call.args[0].input.ResultConfiguration).toBeUndefined();
    }
    expect(s3.commandCalls(PutObjectCommand).every((c) => c.args[0].input.SSEKMSKeyId === "arn:aws:kms:eu-west-1:111122223333:key/k")).toBe(true);
    expect(result.channels.train).toEqual({ uri: "s3://datasets-bucket/datasets/accounts/v1/train/train.csv", rows: 3 });
    // The same training set as the local store's (the leakage dataset, minus the local-only rewrite and deletion).
    expect(uploads.get("datasets/accounts/v1/train/train.csv")).toBe("balance,tier,churned\n5,free,0\n10,gold,1\n,,0\n");
    expect(uploads.get("datasets/accounts/v1/validation/validation.csv")).toBe("balance,tier,churned\n5,free,0\n");
  });

  it("stops with Athena's reason when a query fails", async () => {
    sm.on(DescribeFeatureGroupCommand).resolves({
      FeatureGroupStatus: "Created",
      OfflineStoreConfig: { S3StorageConfig: { S3Uri: "s3://b" }, DataCatalogConfig: { Catalog: "c", Database: "fs", TableName: "t" } },
    });
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q" });
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: "FAILED", StateChangeReason: "Insufficient permissions to execute the query" } } });
    await expect(
      athenaTrainingSet({
        set: small,
        featureGroupName: "accounts-dev",
        labels: LABEL_ROWS.join("\n"),
        output: "s3://datasets-bucket/d",
        workgroup: "primary",
        kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
        runId: "r",
        clients: { sagemaker: new SageMakerClient({}), athena: new AthenaClient({}), s3: new S3Client({}) },
        sleep: async () => {},
        pollIntervalMs: 0,
        out: quiet,
      }),
    ).rejects.toThrow("Athena query q failed while creating the labels table fs.labels_r: Insufficient permissions to execute the query");
  });
});

describe("`ml-deploy features dataset --stack S`: where the training set lands", () => {
  const allowed = "s3://b/datasets/feature-sets/";
  it.each([
    [undefined, "s3://b/datasets/feature-sets/accounts/20250301T120000Z"],
    ["s3://b/datasets/feature-sets/accounts/mine/", "s3://b/datasets/feature-sets/accounts/mine"],
  ])("--output %s → %s", (output, expected) => {
    expect(trainingSetOutput("dev", "b", output, "accounts", "20250301T120000Z")).toBe(expected);
  });

  it.each([
    ["s3://b/datasets/churn/v1", "the raw datasets"],
    ["s3://other/datasets/feature-sets/accounts", "another bucket"],
    ["s3://b/datasets/feature-sets/", "the prefix itself"],
    ["s3://b/datasets/feature-sets/../churn", "a way out of it"],
    ["s3://b/datasets/feature-setsX/a", "a look-alike prefix"],
  ])("refuses --output %s (%s)", (output) => {
    expect(() => trainingSetOutput("dev", "b", output, "accounts", "r")).toThrow(
      `--output ${output}: for stack "dev" a training set is written under ${allowed} (the dataset bucket's training-set prefix)`,
    );
  });

  it("names the temporary labels table labels_<run> (the deployer may create and drop only those)", () => {
    expect(labelsTableName("flight-delays-20250301T120000Z")).toBe("labels_flight_delays_20250301t120000z");
  });

  describe("through the CLI", () => {
    let world: World;
    const definition = write("accounts.yaml", `${JSON.stringify(SMALL)}\n`);
    write("labels.csv", LABEL_ROWS.join("\n") + "\n");
    beforeAll(() => {
      world = new World(lib);
      world.sm.on(DescribeFeatureGroupCommand).resolves({
        FeatureGroupStatus: "Created",
        OfflineStoreConfig: { S3StorageConfig: { S3Uri: "s3://b/fs" }, DataCatalogConfig: { Catalog: "AwsDataCatalog", Database: "fs", TableName: "t" } },
      });
      world.athenaRows = [resultColumns(small), ["a1", "2024-05-01T00:00:00Z", "5", "free", "0"]];
    });
    afterAll(() => world.dispose());
    afterEach(() => world.resetCalls());

    it("refuses a stack without a feature store, naming the stack and mlPlatform:featureStore", async () => {
      const r = await world.run(["features", "dataset", "--stack", "dev", "--definition", definition]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('stack "dev" has no feature store (no featureQueryWorkgroup output)');
      expect(r.stderr).toContain("mlPlatform:featureStore");
      expect(world.sent("StartQueryExecutionCommand")).toEqual([]);
    });

    it("queries in the stack's workgroup and writes a fresh run under datasets/feature-sets/ by default", async () => {
      world.stacks.patchOutputs("dev", { featureQueryWorkgroup: "accounts-queries-dev" });
      const r = await world.run(["features", "dataset", "--stack", "dev", "--definition", definition, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      expect(world.sent("StartQueryExecutionCommand").map((q) => q.WorkGroup)).toEqual([
        "accounts-queries-dev",
        "accounts-queries-dev",
        "accounts-queries-dev",
      ]);
      const keys = world.sent("PutObjectCommand").map((p) => `s3://${String(p.Bucket)}/${String(p.Key)}`);
      const run = /^s3:\/\/[^/]+\/datasets\/feature-sets\/accounts\/(\d{8}T\d{6}Z)\/labels\//.exec(keys[0]!)?.[1];
      expect(run, keys[0]).toBeDefined();
      const prefix = `s3://${bucket("dev", "datasets")}/datasets/feature-sets/accounts/${run}`;
      expect(keys.slice(0, 3)).toEqual([`${prefix}/labels/accounts-${run}/labels.csv`, `${prefix}/train/train.csv`, `${prefix}/validation/validation.csv`]);
      expect(world.sent("PutObjectCommand").every((p) => p.SSEKMSKeyId === kmsKey("dev"))).toBe(true);
      expect(r.json().channels.train).toEqual({ uri: `${prefix}/train/train.csv`, rows: 1 });
      // Then the training set is snapshotted like any dataset: content-addressed copies and its manifest.
      const manifestId = r.json().manifestId as string;
      expect(manifestId).toMatch(/^[0-9a-f]{64}$/);
      const datasets = `s3://${bucket("dev", "datasets")}/datasets`;
      expect(
        keys.slice(3).every((k) => k.startsWith(`${datasets}/sha256/`) || k.startsWith(`${datasets}/manifests/`)),
        keys.join("\n"),
      ).toBe(true);
      expect(keys).toContain(`${datasets}/manifests/${manifestId}.json`);
    });

    it("refuses an --output over the raw datasets before anything is written", async () => {
      const output = `s3://${bucket("dev", "datasets")}/datasets/churn/v1`;
      const r = await world.run(["features", "dataset", "--stack", "dev", "--definition", definition, "--output", output]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `--output ${output}: for stack "dev" a training set is written under s3://${bucket("dev", "datasets")}/datasets/feature-sets/`,
      );
      expect(world.sent("PutObjectCommand")).toEqual([]);
      expect(world.sent("StartQueryExecutionCommand")).toEqual([]);
    });
  });
});

describe("promotion's feature-schema gate", () => {
  const definitionFile = "accounts.yaml";
  const writeDefinition = (d: unknown) => fs.writeFileSync(path.join(tmp, definitionFile), JSON.stringify(d));
  const trained = (set: FeatureSet) => trainingOnFeatureSet(set, definitionFile).metadata;

  it("passes a model whose feature set is unchanged, and one that claims none", () => {
    writeDefinition({ ...SMALL, description: "Reworded." });
    expect(featureSchemaCheck(tmp, trained(small))).toMatchObject({ passed: true });
    expect(featureSchemaCheck(tmp, {})).toMatchObject({ passed: true, detail: "the version claims no feature set" });
  });

  it.each([
    [
      "a feature's type changed",
      { ...SMALL, features: [{ ...SMALL.features[0], type: "integral" }, SMALL.features[1]] },
      /feature set "accounts" changed since the model trained: accounts\.yaml has schema sha256:\w+, the model was trained on sha256:/,
    ],
    [
      "a feature was added",
      { ...SMALL, features: [...SMALL.features, { name: "age_days", type: "integral", description: "Age." }] },
      /changed since the model trained/,
    ],
    ["the file now defines another set", { ...SMALL, name: "customers" }, /accounts\.yaml now defines feature set "customers", not "accounts"/],
    ["the file is invalid", { ...SMALL, eventTime: "Event Time" }, /feature set "accounts": invalid feature set .*eventTime must be lowercase/],
  ])("refuses a model when %s", (_, definition, detail) => {
    writeDefinition(definition);
    const check = featureSchemaCheck(tmp, trained(small));
    expect(check.passed).toBe(false);
    expect(check.detail).toMatch(detail);
  });

  it("refuses a model that claims a feature set without recording its schema", () => {
    expect(featureSchemaCheck(tmp, { [FEATURE_META.featureSet]: "accounts" })).toMatchObject({
      passed: false,
      detail: expect.stringContaining("records no featureSchemaHash"),
    });
  });
});
