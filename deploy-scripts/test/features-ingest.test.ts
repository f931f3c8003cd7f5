import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DescribeFeatureGroupCommand } from "@aws-sdk/client-sagemaker";
import { PutRecordCommand, SageMakerFeatureStoreRuntimeClient } from "@aws-sdk/client-sagemaker-featurestore-runtime";
import { featureGroupDefinitions } from "@ml-platform/contract";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { loadFeatureSet } from "../src/features/definition";
import { readFeatureRecords, writeRecords, type FeatureRecord } from "../src/features/ingest";
import { ACCOUNT, REGION, World, outputsFor } from "./world";

const REPO = path.resolve(__dirname, "..", "..");
const DEFINITION = path.join(REPO, "examples", "flight-delays", "features.yaml");
const { set } = loadFeatureSet(DEFINITION);
const HEADER = "flight_id,event_time,departure_hour,weekday,month,distance,origin,destination,origin_delayed_share_24h";
const GOOD = `${HEADER}\nF1,2001-01-01T10:00:00Z,10.5,mon,jan,1750,DTW,LAS,\nF2,2001-01-01T11:00:00Z,11.25,mon,jan,2399,HNL,SFO,0.25\n`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ingest-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};
const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: {} });

describe("reading feature records", () => {
  it("turns each row into a record of its non-empty values, with its line", () => {
    const records = readFeatureRecords(set, GOOD, "records.csv");
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      line: 2,
      values: [
        { FeatureName: "flight_id", ValueAsString: "F1" },
        { FeatureName: "event_time", ValueAsString: "2001-01-01T10:00:00Z" },
        { FeatureName: "departure_hour", ValueAsString: "10.5" },
        { FeatureName: "weekday", ValueAsString: "mon" },
        { FeatureName: "month", ValueAsString: "jan" },
        { FeatureName: "distance", ValueAsString: "1750" },
        { FeatureName: "origin", ValueAsString: "DTW" },
        { FeatureName: "destination", ValueAsString: "LAS" },
      ],
    });
  });

  it("reads the example's whole feature-records file", () => {
    const text = fs.readFileSync(path.join(REPO, "examples", "flight-delays", "data", "feature-records.csv"), "utf8");
    expect(readFeatureRecords(set, text, "feature-records.csv").length).toBeGreaterThan(1000);
  });

  it.each([
    [`${HEADER}\nF1,2001-01-01T10:00:00Z,10.5,mon,jan,17.5,DTW,LAS,\n`, 'r.csv:2:6: distance ("17.5") must be a whole number'],
    [`${HEADER}\nF1,2001-01-01T10:00:00Z,ten,mon,jan,1750,DTW,LAS,\n`, 'r.csv:2:3: departure_hour ("ten") must be a finite number'],
    [`${HEADER}\nF1,2001-01-01 10:00,10.5,mon,jan,1750,DTW,LAS,\n`, 'r.csv:2:2: event_time ("2001-01-01 10:00") must be a UTC time yyyy-MM-ddTHH:mm:ssZ'],
    [`${HEADER}\n,2001-01-01T10:00:00Z,10.5,mon,jan,1750,DTW,LAS,\n`, "r.csv:2:1: flight_id is empty (every record needs it)"],
    [`${HEADER},delayed\nF1,2001-01-01T10:00:00Z,10.5,mon,jan,1750,DTW,LAS,,1\n`, 'r.csv:1:10: column "delayed" is not a feature of flight-delays'],
    [HEADER.replace("event_time,", "") + "\nF1,10.5,mon,jan,1750,DTW,LAS,\n", 'r.csv:1: the header has no "event_time" column'],
    [`${HEADER}\nF1,2001-01-01T10:00:00Z,10.5,mon\n`, "r.csv:2: not valid CSV"],
    ["", "r.csv: empty"],
  ])("stops at the first schema error, naming file, line and column (%#)", (text, message) => {
    expect(() => readFeatureRecords(set, text, "r.csv")).toThrow(message);
  });
});

describe("writing records", () => {
  const client = new SageMakerFeatureStoreRuntimeClient({ region: REGION });
  const runtime = mockClient(client);
  const records: FeatureRecord[] = Array.from({ length: 20 }, (_, i) => ({ line: i + 2, values: [{ FeatureName: "flight_id", ValueAsString: `F${i}` }] }));
  const delays: number[] = [];
  const options = {
    client,
    featureGroupName: "flight-delays-dev",
    concurrency: 4,
    maxAttempts: 4,
    baseDelayMs: 100,
    random: () => 1,
    sleep: async (ms: number) => void delays.push(ms),
  };
  beforeEach(() => {
    runtime.reset();
    delays.length = 0;
  });
  afterAll(() => runtime.restore());

  it("retries throttled records with growing backoff until they are written", async () => {
    runtime
      .on(PutRecordCommand)
      .rejectsOnce(awsError("ThrottlingException", "Rate exceeded"))
      .rejectsOnce(awsError("ThrottlingException", "Rate exceeded"))
      .resolves({});
    // One at a time, so the first record is throttled twice.
    const summary = await writeRecords(records, { ...options, concurrency: 1 });
    expect(summary).toEqual({ written: 20, rejected: 0, retries: 2, rejections: [] });
    expect(runtime.commandCalls(PutRecordCommand)).toHaveLength(22);
    // 100 ms, then 200 ms (full jitter, here at its maximum).
    expect(delays).toEqual([100, 200]);
  });

  it("keeps at most `concurrency` calls in flight", async () => {
    let inFlight = 0;
    let most = 0;
    runtime.on(PutRecordCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return {};
    });
    await writeRecords(records, options);
    expect(most).toBe(4);
  });

  it("rejects a record SageMaker refuses, or one still throttled after maxAttempts, and says why", async () => {
    runtime
      .on(PutRecordCommand)
      .resolves({})
      .on(PutRecordCommand, { Record: records[3]!.values })
      .rejects(awsError("ValidationError", "Unknown feature name"))
      .on(PutRecordCommand, { Record: records[5]!.values })
      .rejects(awsError("ThrottlingException", "Rate exceeded"));
    const summary = await writeRecords(records, options);
    expect(summary.written).toBe(18);
    expect(summary.rejected).toBe(2);
    expect(summary.rejections).toEqual([
      { reason: "ValidationError: Unknown feature name", count: 1, lines: [5] },
      { reason: "ThrottlingException: Rate exceeded (after 4 attempts)", count: 1, lines: [7] },
    ]);
  });

  it("stops at an error every record would hit (no such group, no permission)", async () => {
    runtime.on(PutRecordCommand).rejects(awsError("ResourceNotFound", "Resource flight-delays-dev not found"));
    await expect(writeRecords(records, options)).rejects.toThrow(
      "writing to feature group flight-delays-dev failed: ResourceNotFound: Resource flight-delays-dev not found",
    );
    expect(runtime.commandCalls(PutRecordCommand).length).toBeLessThanOrEqual(4);
  });
});

describe("ml-deploy features ingest", () => {
  let world: World;
  const group = {
    featureGroupName: "flight-delays-dev",
    featureGroupArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:feature-group/flight-delays-dev`,
    offlineStoreUri: "s3://churn-dev-datasets/feature-store/",
    glueTable: null,
    onlineStore: false,
  };
  const definitions = featureGroupDefinitions(set).map((d) => ({ FeatureName: d.featureName, FeatureType: d.featureType }));
  const ingest = (input: string, ...more: string[]) =>
    world.run(["features", "ingest", "--stack", "dev", "--definition", DEFINITION, "--input", input, ...more]);

  beforeEach(() => {
    world = new World(lib);
    world.stacks.setOutputs("dev", { ...outputsFor("dev"), featureGroups: { "flight-delays": group } });
    world.sm
      .on(DescribeFeatureGroupCommand)
      .resolves({ FeatureGroupName: group.featureGroupName, FeatureGroupStatus: "Created", FeatureDefinitions: definitions });
  });
  afterEach(() => world.dispose());

  it("writes every record to the stack's group, with progress on stderr and a summary", async () => {
    world.featureStore.on(PutRecordCommand).rejectsOnce(awsError("ThrottlingException")).resolves({});
    const result = await ingest(file("good.csv", GOOD), "--json");
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ featureGroupName: "flight-delays-dev", records: 2, written: 2, rejected: 0, retries: 1 });
    expect(world.featureStore.commandCalls(PutRecordCommand).map((c) => c.args[0].input.FeatureGroupName)).toEqual(Array(3).fill("flight-delays-dev"));
    expect(result.stderr).toContain("2/2 records (100%)");
  });

  it("writes nothing from a file with a bad row, and names its line and column", async () => {
    const bad = `${GOOD}F3,2001-01-01T12:00:00Z,12,mon,jan,many,DTW,LAS,\n`;
    const result = await ingest(file("bad.csv", bad));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bad.csv:4:6: distance ("many") must be a whole number');
    expect(world.featureStore.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it("refuses a feature group whose definitions differ from the feature-set file", async () => {
    world.sm
      .on(DescribeFeatureGroupCommand)
      .resolves({ FeatureGroupStatus: "Created", FeatureDefinitions: definitions.filter((d) => d.FeatureName !== "distance") });
    const result = await ingest(file("good2.csv", GOOD));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("distance: declared in the feature set, missing from the feature group");
    expect(world.featureStore.commandCalls(PutRecordCommand)).toHaveLength(0);
  });

  it("says how to get a feature group where the stack has none", async () => {
    world.stacks.setOutputs("dev", outputsFor("dev"));
    const result = await ingest(file("good3.csv", GOOD));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("stack dev has no feature group for the feature set flight-delays");
    expect(result.stderr).toContain("mlPlatform:featureStore.featureSets");
  });
});
