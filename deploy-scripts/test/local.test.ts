import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/index";
import { LocalModelRegistry, localArn } from "../src/local/registry";
import { modelPackageInput } from "../src/registry/register";

const ROOT = path.resolve(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "flight-delays", "data");

function capture() {
  let stdout = "";
  let stderr = "";
  return {
    streams: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

/** `ml-deploy local …` in process, with this repository as its root. */
async function runLocal(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = capture();
  const code = await main(["local", ...argv], { streams: io.streams, repoRoot: ROOT, gitCommit: async () => "0123abc" });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** The example data, cut to a few thousand rows so the suite stays fast. */
function smallData(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, rows] of [
    ["train", 4000],
    ["validation", 800],
  ] as const) {
    const lines = fs.readFileSync(path.join(EXAMPLE, `${name}.csv`), "utf8").split("\n");
    fs.writeFileSync(path.join(dir, `${name}.csv`), lines.slice(0, rows + 1).join("\n") + "\n");
  }
  return dir;
}

describe("ml-deploy local: the whole lifecycle on this machine", () => {
  let tmp: string;
  const runs: Array<{ code: number; stdout: string; stderr: string }> = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ml-local-"));
    const data = smallData(path.join(tmp, "data"));
    for (let i = 0; i < 2; i++) {
      const io = capture();
      const code = await main(["local", "--data", data, "--work-dir", path.join(tmp, "work"), "--json"], {
        streams: io.streams,
        repoRoot: ROOT,
        gitCommit: async () => "0123abc",
      });
      runs.push({ code, stdout: io.stdout, stderr: io.stderr });
    }
  }, 120_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("trains, evaluates, registers, serves and smoke-tests, and exits 0", () => {
    expect(runs[0].code, runs[0].stderr).toBe(0);
    const result = JSON.parse(runs[0].stdout);
    expect(result.metrics["validation:auc"]).toBeGreaterThan(0.55);
    expect(result.smoke).toMatchObject({ passed: true, rows: 5 });
    expect(result.smoke.requests.map((r: { name: string }) => r.name)).toEqual(["csv", "json"]);
    expect(result.version.arn).toBe(localArn("flight-delays-local", 1));
  });

  it("records the model's identity and checks the server answers with it (X-Amzn-SageMaker-Custom-Attributes)", () => {
    const result = JSON.parse(runs[0].stdout);
    const identity = `model-sha256=${createHash("sha256")
      .update(fs.readFileSync(path.join(result.modelDir, "model.json")))
      .digest("hex")}`;
    expect(result.version.metadata.modelIdentity).toBe(identity);
    // runSmoke compared every response's identity with it (a mismatch is a problem of the run).
    expect(result.smoke.passed).toBe(true);
  });

  it("captures the smoke requests as SageMaker data capture and measures them against the training baseline", () => {
    const result = JSON.parse(runs[0].stdout);
    // ml-core train wrote the baseline beside the model, so it ships in model.tar.gz.
    for (const file of ["statistics.json", "constraints.json"]) expect(fs.existsSync(path.join(result.modelDir, file))).toBe(true);
    const captureDir = path.join(tmp, "work", "runs", result.runId, "data-capture", result.runId, "local");
    const files = (fs.readdirSync(captureDir, { recursive: true }) as string[]).filter((f) => f.endsWith(".jsonl"));
    const records = files.flatMap((f) =>
      fs
        .readFileSync(path.join(captureDir, f), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    );
    expect(records.map((r) => r.captureData.endpointInput.observedContentType)).toEqual(["text/csv", "text/csv", "application/json"]);
    expect(records[0].captureData.endpointOutput).toMatchObject({ mode: "OUTPUT", encoding: "JSON" });
    // The warm-up, then 5 rows as CSV and as JSON: too few for a verdict, but every feature is measured.
    expect(result.drift.rows).toBe(15);
    expect(result.drift.features.map((f: { name: string }) => f.name)).toEqual(["departure_hour", "weekday", "month", "distance", "origin", "destination"]);
    expect(result.drift.features.every((f: { verdict: string }) => f.verdict === "too few rows")).toBe(true);
    expect(runs[0].stderr).toContain("==> Drift of the captured requests");
    expect(runs[0].stderr).toMatch(/departure_hour\s+numeric\s+\d+\.\d{4}\s+too few rows/);
  });

  it("shows each step's progress", () => {
    for (const step of ["Training", "Evaluating", "Registering", "Serving", "Smoke-testing", "Stopping the server"])
      expect(runs[0].stderr).toContain(`==> ${step}`);
    // ml-core's own progress and metric lines come through.
    expect(runs[0].stderr).toMatch(/validation:auc=0\.\d{6}/);
  });

  it("trains through the container contract: an /opt/ml tree with string hyperparameters and the model in model/", () => {
    const result = JSON.parse(runs[0].stdout);
    const hyperparameters = JSON.parse(fs.readFileSync(path.join(result.trainingDir, "input/config/hyperparameters.json"), "utf8"));
    expect(Object.values(hyperparameters).every((v) => typeof v === "string")).toBe(true);
    expect(hyperparameters.label).toBe("delayed");
    expect(fs.existsSync(path.join(result.modelDir, "model.json"))).toBe(true);
    expect(fs.existsSync(path.join(result.trainingDir, "output", "failure"))).toBe(false);
  });

  it("registers the fields a SageMaker model package has", () => {
    const result = JSON.parse(runs[0].stdout);
    const entry = JSON.parse(fs.readFileSync(path.join(result.registryDir, "flight-delays-local", "1.json"), "utf8"));
    expect(entry).toMatchObject({
      ModelPackageGroupName: "flight-delays-local",
      ModelPackageVersion: 1,
      ModelPackageStatus: "Completed",
      // Approved only when the model meets dev's gates (dev needs no manual approval).
      ModelApprovalStatus: result.gateFailures.length === 0 ? "Approved" : "PendingManualApproval",
      InferenceSpecification: {
        Containers: [{ Image: expect.stringMatching(/^local\/ml-core@sha256:[0-9a-f]{64}$/), ModelDataUrl: `file://${result.modelDir}` }],
        SupportedContentTypes: ["text/csv", "application/json"],
      },
      MetadataProperties: { CommitId: "0123abc", GeneratedBy: "ml-deploy local" },
      CustomerMetadataProperties: expect.objectContaining({ "metric:validation:auc": String(result.metrics["validation:auc"]), trainingJobName: result.runId }),
    });
  });

  it("registers a second version on a second run and keeps the first", () => {
    expect(runs[1].code, runs[1].stderr).toBe(0);
    const [first, second] = runs.map((r) => JSON.parse(r.stdout));
    expect(second.version.version).toBe(2);
    expect(second.modelDir).not.toBe(first.modelDir);
    expect(fs.existsSync(path.join(first.modelDir, "model.json"))).toBe(true);
    expect(new LocalModelRegistry(first.registryDir).list("flight-delays-local").map((p) => p.ModelPackageVersion)).toEqual([1, 2]);
  });

  it("fails clearly, with the training failure, on bad data", async () => {
    const bad = path.join(tmp, "bad");
    fs.mkdirSync(bad);
    const header = "departure_hour,weekday,month,distance,origin,destination,delayed\n";
    fs.writeFileSync(path.join(bad, "train.csv"), `${header}1.5,mon,jan,1750,DTW,LAS,1\n2.5,tue,jan\n`);
    fs.writeFileSync(path.join(bad, "validation.csv"), `${header}1.5,mon,jan,1750,DTW,LAS,1\n`);
    const io = capture();
    const code = await main(["local", "--no-features", "--data", bad, "--work-dir", path.join(tmp, "work-bad")], {
      streams: io.streams,
      repoRoot: ROOT,
      gitCommit: async () => "0123abc",
    });
    expect(code).toBe(1);
    // The reason ml-core wrote to output/failure, naming the file and line.
    // The channel file is named by its hash; the message names the object it is a copy of too.
    expect(io.stderr).toMatch(/error: training failed: .*train\/[0-9a-f]{64} \(file:\/\/.*\/bad\/train\.csv\):3: expected 7 fields, found 3/);
    expect(fs.existsSync(path.join(tmp, "work-bad", "registry"))).toBe(false);
  }, 60_000);
});

describe("local model registry", () => {
  const spec = (key: string) =>
    modelPackageInput({
      group: "m-local",
      description: "d",
      image: "local/ml-core@sha256:" + "0".repeat(64),
      modelDataUrl: "file:///m",
      metrics: { "validation:auc": 0.7 },
      metricsReportUri: "file:///m/metrics.json",
      approval: "PendingManualApproval",
      gitCommit: "c",
      generatedBy: undefined,
      metadata: {},
      idempotencyKey: key,
    });

  it("numbers versions in order and returns the same version for the same request", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ml-registry-"));
    const registry = new LocalModelRegistry(root);
    expect(registry.register(spec("a")).version).toBe(1);
    expect(registry.register(spec("b")).version).toBe(2);
    expect(registry.register(spec("a")).version).toBe(1);
    expect(registry.list("m-local")).toHaveLength(2);
    expect(registry.describe("m-local", 2).metrics).toEqual({ "validation:auc": 0.7 });
  });

  it("names the file it cannot read", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ml-registry-"));
    fs.mkdirSync(path.join(root, "m-local"));
    fs.writeFileSync(path.join(root, "m-local", "1.json"), "{ not json");
    expect(() => new LocalModelRegistry(root).register(spec("x"))).toThrow(/the local registry entry .*1\.json cannot be read/);
  });

  it("rejects a group name SageMaker would reject", () => {
    expect(() => new LocalModelRegistry(os.tmpdir()).list("bad/name")).toThrow(/not a valid model package group name/);
  });
});

describe("ml-deploy local with no --data: npm start's path, from the feature store", () => {
  let tmp: string;
  let run: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ml-local-features-"));
    run = await runLocal(["--work-dir", path.join(tmp, "work"), "--json"]);
  }, 120_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("trains on the point-in-time training set, with the feature set's columns and categorical_columns, and records its schema", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("into the local feature store");
    const result = JSON.parse(run.stdout);
    const header = fs.readFileSync(path.join(tmp, "work", "training-sets", "flight-delays", "train.csv"), "utf8").split("\n")[0];
    expect(header).toContain("origin_delayed_share_24h");
    expect(result.drift.features.map((f: { name: string }) => f.name)).toContain("origin_delayed_share_24h");
    expect(result.version.metadata).toMatchObject({ featureSet: "flight-delays", datasetManifestId: result.manifestId });
    expect(result.version.metadata.featureSchemaHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("ml-deploy local --model-file: an XGBoost model trained elsewhere, imported, registered and served", () => {
  const FIXTURES = path.join(ROOT, "ml-core", "test", "fixtures", "xgboost");
  let tmp: string;
  let run: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ml-local-xgboost-"));
    // XGBoost's layout: label first, no header; labels from XGBoost's own predictions of the fixture rows.
    const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, "expected.json"), "utf8")).binary.xgboost as number[];
    const rows = fs.readFileSync(path.join(FIXTURES, "rows.csv"), "utf8").trim().split("\n");
    const labelled = rows.map((r, i) => `${expected[i]! > 0.5 ? 1 : 0},${r}`).join("\n") + "\n";
    const data = path.join(tmp, "data");
    fs.mkdirSync(data);
    for (const channel of ["train", "validation"]) fs.writeFileSync(path.join(data, `${channel}.csv`), labelled);
    run = await runLocal(["--model-file", path.join(FIXTURES, "binary.ubj"), "--data", data, "--work-dir", path.join(tmp, "work"), "--json"]);
  }, 120_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("serves the XGBoost file itself: the registered identity is its bytes' hash, and the smoke test sees it answer", () => {
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    const identity = `model-sha256=${createHash("sha256")
      .update(fs.readFileSync(path.join(FIXTURES, "binary.ubj")))
      .digest("hex")}`;
    expect(result.version.metadata.modelIdentity).toBe(identity);
    expect(fs.existsSync(path.join(result.modelDir, "xgboost-model"))).toBe(true);
    expect(fs.existsSync(path.join(result.modelDir, "model.json"))).toBe(false);
    expect(result.smoke.passed).toBe(true);
    // Labels are XGBoost's own decisions, so ml-core's scores of the same file rank them perfectly.
    expect(result.metrics["validation:auc"]).toBe(1);
    expect(result.drift).toBeUndefined();
    expect(run.stderr).toContain("no drift table");
  });

  it("refuses --model-file without --data, before doing anything", async () => {
    const r = await runLocal(["--model-file", path.join(FIXTURES, "binary.ubj"), "--work-dir", path.join(tmp, "work2")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--model-file needs --data DIR");
    expect(fs.existsSync(path.join(tmp, "work2"))).toBe(false);
  });
});
