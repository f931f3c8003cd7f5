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
    expect(io.stderr).toMatch(/error: training failed: .*train\.csv:3: expected 7 fields, found 3/);
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
