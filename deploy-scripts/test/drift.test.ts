import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DescribeEndpointCommand } from "@aws-sdk/client-sagemaker";
import { baselineFromBins, Random, readBinnedTrainingData, type BaselineStatistics } from "@ml-platform/ml-core";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { captureRecord, parseCaptureLine, parseSince } from "../src/drift/capture";
import * as lib from "../src/index";
import { bucket, endpoint, packageArn, tarGz, World } from "./world";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ml-drift-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Row {
  tenure: number;
  spend: number;
  plan: string;
}

/** tenure ~ N(24, 6), spend ~ U(0, 100), plan basic/pro/team at 60/30/10 %. */
function customers(n: number, seed: number, shift: { tenure?: number; plans?: [string, number][] } = {}): Row[] {
  const rng = new Random(seed);
  const plans = shift.plans ?? [
    ["basic", 0.6],
    ["pro", 0.3],
    ["team", 0.1],
  ];
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    let p = rng.next();
    const plan = plans.find(([, w]) => (p -= w) < 0)?.[0] ?? plans[plans.length - 1]![0];
    return { tenure: Math.round((24 + 6 * z + (shift.tenure ?? 0)) * 100) / 100, spend: Math.round(rng.next() * 10000) / 100, plan };
  });
}

const training = customers(3000, 1);

/** The baseline ml-core train writes for the training rows. */
const baseline: BaselineStatistics = (() => {
  const file = path.join(tmp, "train.csv");
  fs.writeFileSync(file, ["churn,tenure,spend,plan", ...training.map((r, i) => `${i % 2},${r.tenure},${r.spend},${r.plan}`)].join("\n") + "\n");
  const { schema, mapper, table } = readBinnedTrainingData([file], "train", { labelColumn: "churn", maxCategories: 255 }, 255, new Random(1));
  return baselineFromBins(schema, mapper, table).statistics;
})();

const STACK = "staging";
const CAPTURE = `s3://${bucket(STACK, "artifacts")}/data-capture/`;
const HOUR = `${bucket(STACK, "artifacts")}/data-capture/${endpoint(STACK)}/primary/2025/03/01/11`;

/** Capture lines as SageMaker writes them: 20-row CSV requests, every third one JSON, every fifth base64. */
function captureLines(rows: Row[], time = new Date("2025-03-01T11:30:00Z")): string {
  const lines: string[] = [];
  for (let i = 0, k = 0; i < rows.length; i += 20, k++) {
    const part = rows.slice(i, i + 20);
    const request =
      k % 3 === 2
        ? { contentType: "application/json", body: JSON.stringify({ instances: part }) }
        : { contentType: "text/csv", body: part.map((r) => `${r.tenure},${r.spend},${r.plan}`).join("\n") };
    const record = captureRecord(request, { contentType: "application/json", body: '{"predictions":[]}' }, time, `event-${k}`);
    if (k % 5 === 4) {
      const input = record.captureData.endpointInput!;
      lines.push(
        JSON.stringify({
          ...record,
          captureData: { ...record.captureData, endpointInput: { ...input, data: Buffer.from(request.body).toString("base64"), encoding: "BASE64" } },
        }),
      );
    } else lines.push(JSON.stringify(record));
  }
  return lines.join("\n") + "\n";
}

describe("ml-deploy drift: captured requests against the served version's training baseline", () => {
  let world: World;
  beforeEach(() => {
    world = new World(lib);
    // The served version's artifact carries the baseline beside the model.
    const artifact = world.packages.get(packageArn(STACK, 1))!.InferenceSpecification!.Containers![0]!.ModelDataUrl!;
    world.putObject(artifact.slice("s3://".length), tarGz({ "model.json": "{}", "statistics.json": JSON.stringify(baseline) }));
    world.sm.on(DescribeEndpointCommand).resolves({
      EndpointName: endpoint(STACK),
      EndpointStatus: "InService",
      ProductionVariants: [{ VariantName: "primary" }],
      DataCaptureConfig: { EnableCapture: true, CaptureStatus: "Started", CurrentSamplingPercentage: 100, DestinationS3Uri: CAPTURE, KmsKeyId: "k" },
    });
  });
  afterEach(() => world.dispose());

  const run = (...extra: string[]) => world.run(["drift", "--stack", STACK, "--since", "2025-03-01T11:00:00Z", ...extra]);

  it("finds no drift in the training data itself: every feature is stable", async () => {
    world.objects.set(`${HOUR}/capture-0.jsonl`, Buffer.from(captureLines(training)));
    const r = await run("--json");
    expect(r.code, r.stderr).toBe(0);
    const result = r.json();
    expect(result.capture).toMatchObject({ objects: 1, requests: 150 });
    expect(result.report.rows).toBe(3000);
    expect(result.report.features.map((f: { name: string; verdict: string }) => [f.name, f.verdict])).toEqual([
      ["tenure", "stable"],
      ["spend", "stable"],
      ["plan", "stable"],
    ]);
    for (const f of result.report.features) expect(f.psi).toBeCloseTo(0, 10);
    // Listed from the hour of --since, under the endpoint's variant, as the endpoint's capture config says.
    const [list] = world.sent("ListObjectsV2Command");
    expect(list).toMatchObject({
      Bucket: bucket(STACK, "artifacts"),
      Prefix: `data-capture/${endpoint(STACK)}/primary/`,
      StartAfter: `data-capture/${endpoint(STACK)}/primary/2025/03/01/11`,
    });
  });

  it("flags a shifted numeric feature and not the others, in a table", async () => {
    world.objects.set(`${HOUR}/capture-0.jsonl`, Buffer.from(captureLines(customers(1000, 2, { tenure: 6 }))));
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    const line = (name: string) => r.stdout.split("\n").find((l) => l.startsWith(name))!;
    expect(line("tenure")).toMatch(/numeric\s+\d+\.\d{4}\s+drift/);
    expect(line("spend")).toMatch(/stable/);
    expect(line("plan")).toMatch(/stable/);
    expect(r.stdout).toContain("PSI < 0.1 stable, 0.1–0.25 moderate, > 0.25 drift");
  });

  it("flags a categorical shift, with the unseen categories in their own bucket", async () => {
    const shifted = customers(1000, 3, {
      plans: [
        ["basic", 0.3],
        ["pro", 0.3],
        ["enterprise", 0.4],
      ],
    });
    world.objects.set(`${HOUR}/capture-0.jsonl`, Buffer.from(captureLines(shifted)));
    const { report } = (await run("--json")).json();
    const plan = report.features.find((f: { name: string }) => f.name === "plan");
    expect(plan.verdict).toBe("drift");
    expect(plan.buckets.find((b: { bucket: string }) => b.bucket === "other/unseen").actual).toBeGreaterThan(0.35);
    expect(report.features.filter((f: { verdict: string }) => f.verdict !== "stable").map((f: { name: string }) => f.name)).toEqual(["plan"]);
  });

  it("leaves out requests served before --since", async () => {
    world.objects.set(
      `${HOUR}/capture-0.jsonl`,
      Buffer.from(captureLines(training.slice(0, 400), new Date("2025-03-01T10:59:00Z")) + captureLines(training.slice(400, 800))),
    );
    const { capture, report } = (await run("--json")).json();
    expect(capture.requests).toBe(20);
    expect(report.rows).toBe(400);
  });

  it("withholds a verdict below --min-rows", async () => {
    world.objects.set(`${HOUR}/capture-0.jsonl`, Buffer.from(captureLines(training.slice(0, 40))));
    const { report } = (await run("--json", "--min-rows", "100")).json();
    expect(report.features.every((f: { verdict: string }) => f.verdict === "too few rows")).toBe(true);
  });

  it.each([
    ["a line that is not JSON", "{not json", /line 2: not a JSON object/],
    ["a record without captureData", '{"eventMetadata":{}}', /line 2: no "captureData" object/],
    [
      "a body that does not decode",
      JSON.stringify(
        captureRecord({ contentType: "text/csv", body: "abc,1,basic" }, { contentType: "application/json", body: "{}" }, new Date("2025-03-01T11:10:00Z")),
      ),
      /line 2: row 1.*"tenure" is numeric/,
    ],
  ])("fails on %s, naming the S3 object and line", async (_, bad, message) => {
    const good = captureLines(training.slice(0, 20));
    world.objects.set(`${HOUR}/capture-0.jsonl`, Buffer.from(good + bad + "\n"));
    const r = await run();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`s3://${HOUR}/capture-0.jsonl line 2:`);
    expect(r.stderr).toMatch(message);
  });

  it("says so when the endpoint does not capture requests", async () => {
    world.sm
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: endpoint(STACK), EndpointStatus: "InService", ProductionVariants: [{ VariantName: "primary" }] });
    const r = await run();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`endpoint ${endpoint(STACK)} of stack "staging" does not capture requests`);
    expect(r.stderr).toContain("mlPlatform:dataCapture.enabled");
  });

  it("says so when the served artifact has no baseline", async () => {
    const artifact = world.packages.get(packageArn(STACK, 1))!.InferenceSpecification!.Containers![0]!.ModelDataUrl!;
    world.putObject(artifact.slice("s3://".length), tarGz({ "model.json": "{}" }));
    const r = await run();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${artifact} has no statistics.json`);
  });
});

describe("the data capture format", () => {
  it("round-trips a request through a capture record, text or base64", () => {
    const record = captureRecord(
      { contentType: "text/csv", body: "1,2,basic" },
      { contentType: "application/json", body: "{}" },
      new Date("2025-03-01T11:00:00Z"),
      "e1",
    );
    expect(record).toEqual({
      captureData: {
        endpointInput: { observedContentType: "text/csv", mode: "INPUT", data: "1,2,basic", encoding: "CSV" },
        endpointOutput: { observedContentType: "application/json", mode: "OUTPUT", data: "{}", encoding: "JSON" },
      },
      eventMetadata: { eventId: "e1", inferenceTime: "2025-03-01T11:00:00.000Z" },
      eventVersion: "0",
    });
    expect(parseCaptureLine(JSON.stringify(record))).toEqual({
      contentType: "text/csv",
      body: Buffer.from("1,2,basic"),
      time: new Date("2025-03-01T11:00:00Z"),
    });
    const binary = captureRecord({ contentType: "application/x-npy", body: "xyz" }, { contentType: undefined, body: "" }, new Date(0));
    expect(binary.captureData.endpointInput).toMatchObject({ encoding: "BASE64", data: Buffer.from("xyz").toString("base64") });
    expect(parseCaptureLine(JSON.stringify(binary))!.body.toString()).toBe("xyz");
  });

  it.each([
    ["24h", "2025-03-01T12:00:00.000Z"],
    ["90m", "2025-03-02T10:30:00.000Z"],
    ["7d", "2025-02-23T12:00:00.000Z"],
    ["2025-03-01T06:00:00Z", "2025-03-01T06:00:00.000Z"],
  ])("--since %s", (value, expected) => {
    expect(parseSince(value, Date.parse("2025-03-02T12:00:00Z")).toISOString()).toBe(expected);
  });

  it("rejects a --since that is neither a time nor a duration", () => {
    expect(() => parseSince("yesterday", 0)).toThrow('--since "yesterday" is neither an ISO 8601 time (2026-01-31T12:00Z) nor a duration (90m, 24h, 7d)');
  });
});
