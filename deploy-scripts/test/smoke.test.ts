import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as lib from "../src/index";
import { VALIDATION_CSV, World, endpoint } from "./world";

const { buildSmokeRequests, checkSmokeResponse, httpTransport, runSmoke, sampleFromCsv } = lib;

const sample = sampleFromCsv(VALIDATION_CSV, { label: "churn", maxRows: 3 });
const [csvRequest, jsonRequest] = buildSmokeRequests(sample);
const ok = (body: unknown, latencyMs = 5) => ({
  status: 200,
  contentType: "application/json",
  body: typeof body === "string" ? body : JSON.stringify(body),
  latencyMs,
});

describe("smoke requests", () => {
  it("drop the label, keep quoting, send CSV without a header and JSON instances keyed by feature", () => {
    expect(sample.columns).toEqual(["tenure", "plan", "monthly"]);
    expect(csvRequest).toMatchObject({ contentType: "text/csv", accept: "application/json", rows: 3, body: "12,basic,29.5\n3,premium,89.0\n40,basic,19.9\n" });
    expect(JSON.parse(jsonRequest!.body)).toEqual({
      instances: [
        { tenure: 12, plan: "basic", monthly: 29.5 },
        { tenure: 3, plan: "premium", monthly: 89 },
        { tenure: 40, plan: "basic", monthly: 19.9 },
      ],
    });
    expect(sampleFromCsv(VALIDATION_CSV, { label: "churn", maxRows: 10 }).rows[3]).toEqual(["7", "pro, annual", "55.0"]);
  });

  it("a ranged read cut mid-line loses only the incomplete row", () => {
    const cut = VALIDATION_CSV.slice(0, VALIDATION_CSV.indexOf("40,basic") + 5);
    expect(sampleFromCsv(cut, { label: "churn", maxRows: 10, partial: true }).rows).toHaveLength(2);
  });
});

describe("smoke checks", () => {
  const probs = (p: Record<string, number>) => ({ predicted_label: "1", probabilities: p });
  it.each([
    ["ml-core's classification JSON", { predictions: [probs({ "0": 0.1, "1": 0.9 }), probs({ "0": 0.5, "1": 0.5 }), probs({ "0": 1, "1": 0 })] }],
    ["ml-core's regression JSON", { predictions: [{ score: 1.5 }, { score: -2 }, { score: 0 }] }],
    ["a bare array of numbers", [0.1, 0.2, 0.3]],
    [
      "probability arrays",
      {
        outputs: [
          [0.2, 0.8],
          [0.6, 0.4],
          [0.5, 0.5],
        ],
      },
    ],
    ["CSV lines", "1,0.1,0.9\n0,0.7,0.3\n1,0.2,0.8\n"],
  ])("accept %s", (_, body) => {
    expect(checkSmokeResponse(csvRequest!, ok(body), 100)).toEqual([]);
  });

  it.each([
    ["a missing row", { predictions: [{ score: 1 }, { score: 2 }] }, "csv request: 2 predictions for 3 rows"],
    [
      "a probability above 1",
      { predictions: [probs({ a: 1.2, b: -0.2 }), probs({ a: 0.5, b: 0.5 }), probs({ a: 0.5, b: 0.5 })] },
      "row 1: probability 1.2 is outside [0, 1]",
    ],
    [
      "probabilities not summing to 1",
      { predictions: [probs({ a: 0.5, b: 0.6 }), probs({ a: 0.5, b: 0.5 }), probs({ a: 0.5, b: 0.5 })] },
      "row 1: probabilities sum to 1.1, not 1",
    ],
    ["a non-finite score", { predictions: [{ score: null }, { score: 1 }, { score: 1 }] }, "row 1: unexpected prediction null"],
    ["no predictions at all", { message: "ok" }, "response has no list of predictions"],
    ["invalid JSON", "{nope", "response is not valid JSON"],
  ])("refuse %s", (_, body, problem) => {
    expect(checkSmokeResponse(csvRequest!, ok(body), 100).join("\n")).toContain(problem);
  });

  it("refuse a slow answer and an error status", () => {
    expect(checkSmokeResponse(csvRequest!, ok([1, 2, 3], 250), 100)).toEqual(["csv request: took 250 ms, above the limit of 100 ms"]);
    expect(checkSmokeResponse(csvRequest!, { status: 500, contentType: "text/plain", body: "internal error", latencyMs: 1 }, 100)).toEqual([
      "csv request: HTTP 500: internal error",
    ]);
  });
});

describe("HTTP transport (local ml-core serve)", () => {
  let server: Server;
  let seen: Array<{ url?: string; type?: string; body: string }> = [];
  beforeEach(async () => {
    seen = [];
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        seen.push({ url: req.url, type: req.headers["content-type"], body });
        const rows = req.headers["content-type"] === "text/csv" ? body.trim().split("\n").length : JSON.parse(body).instances.length;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ predictions: Array.from({ length: rows }, () => ({ predicted_label: "0", probabilities: { "0": 0.7, "1": 0.3 } })) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it("sends the same requests to POST /invocations and passes", async () => {
    const { port } = server.address() as AddressInfo;
    const result = await runSmoke(httpTransport(`http://127.0.0.1:${port}`), sample, { maxLatencyMs: 5000 });
    expect(result.passed).toBe(true);
    expect(result.requests.map((r) => r.name)).toEqual(["csv", "json"]);
    expect(seen.map((s) => [s.url, s.type])).toEqual([
      ["/invocations", "text/csv"],
      ["/invocations", "text/csv"],
      ["/invocations", "application/json"],
    ]);
  });
});

describe("smoke command", () => {
  let world: World;
  beforeEach(() => {
    world = new World(lib);
  });
  afterEach(() => world.dispose());

  it("invokes the endpoint with rows from the validation channel, as CSV and JSON", async () => {
    const r = await world.run(["smoke", "--stack", "staging", "--rows", "4", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ endpoint: { name: endpoint("staging"), status: "InService" }, smoke: { passed: true, rows: 4 } });
    const invokes = world.sent("InvokeEndpointCommand");
    expect(invokes.map((i) => i.ContentType)).toEqual(["text/csv", "text/csv", "application/json"]);
    const [get] = world.sent("GetObjectCommand");
    expect(get).toMatchObject({ Key: "datasets/churn/v1/validation/part-0.csv", Range: "bytes=0-262143" });
  });

  it("fails with the model's error", async () => {
    world.invoke = "error";
    const r = await world.run(["smoke", "--stack", "staging"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("csv request failed: ModelError: Received server error (500)");
  });

  it("fails on latency over the limit", async () => {
    world.invokeDelayMs = 30;
    const r = await world.run(["smoke", "--stack", "staging", "--max-latency-ms", "5"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/json request: took \d+ ms, above the limit of 5 ms/);
  });

  it("fails clearly when the stack has no endpoint", async () => {
    const { endpointName: _, ...outputs } = (await world.stacks.outputs("dev")) as Record<string, unknown>;
    world.stacks.setOutputs("dev", outputs);
    const r = await world.run(["smoke", "--stack", "dev"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stack "dev" has no endpoint (it pins no model)');
  });

  it("reads --samples from a local file", async () => {
    const { writeFileSync } = await import("node:fs");
    const file = `${world.dir}/samples.csv`;
    writeFileSync(file, "tenure,plan,monthly\n1,basic,2\n");
    const r = await world.run(["smoke", "--stack", "dev", "--samples", file, "--json"]);
    expect(r.code).toBe(0);
    expect(r.json().smoke.rows).toBe(1);
    expect(world.sent("GetObjectCommand")).toEqual([]);
  });
});
