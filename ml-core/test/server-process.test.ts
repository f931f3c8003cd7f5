/**
 * The server as SageMaker runs it, for what needs a process: start-up order, signals and draining,
 * cluster workers, the environment, `ml-core serve` itself on a real model directory. Most tests
 * use the hand-written predictor of server-fake-predictor.cjs, whose loading and scoring speed they
 * control. Routes, formats, limits and logs are tested in process (server-app.test.ts).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL_FILE, MODEL_IDENTITY_HEADER, modelIdentity } from "../src/index";
import { loadPredictor } from "../src/model/load";
import { Scorer } from "../src/codec/scoring";
import { score } from "./server-fake-predictor.cjs";
import { BIN, ensureBuilt, invoke, killAll, request, sleep, startServer, waitReady, type RunningServer } from "./server-helpers";
import { testRows } from "./server-model";

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const COLOR: Record<string, number> = { red: 0, green: 1, blue: 2 };

/** The CSV line the server must answer for one input row of the binary fake model. */
function expectedCsv(age: number, income: number, color: string | undefined): string {
  const p = sigmoid(score(age, income, color === undefined ? NaN : (COLOR[color] ?? NaN)));
  return `${p >= 0.5 && 1 - p < p ? "yes" : "no"},${1 - p},${p}`;
}

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => killAll());

describe("starting and stopping", () => {
  it("opens the port only once the model is loaded, so /ping never answers 200 before", async () => {
    const server = await startServer({ env: { FAKE_LOAD_MS: "700" }, waitReady: false });
    const started = Date.now();
    let firstOk = 0;
    let loadedLogged = false;
    while (firstOk === 0 && Date.now() - started < 10_000) {
      try {
        const res = await request(server.port, { path: "/ping", timeoutMs: 500 });
        if (res.status === 200) {
          firstOk = Date.now();
          loadedLogged = server.logs().some((l) => l.msg === "model loaded");
        }
      } catch {
        await sleep(20);
      }
    }
    expect(firstOk - started).toBeGreaterThanOrEqual(600);
    expect(loadedLogged).toBe(true);
    expect((await server.stop()).code).toBe(0);
  });

  it("exits 1 with the reason when the model cannot be loaded", async () => {
    const server = await startServer({ env: { FAKE_LOAD_ERROR: "no such file" }, waitReady: false, args: ["--model-dir", "/nonexistent"] });
    expect((await server.exited).code).toBe(1);
    expect(server.logs().find((l) => l.level === "error")?.msg).toBe(
      "cannot load the model from /nonexistent: cannot read model /nonexistent/model.json: no such file",
    );
  });

  it("exits 1 naming every invalid setting", async () => {
    const server = await startServer({
      env: { SAGEMAKER_MODEL_SERVER_WORKERS: "0", SAGEMAKER_BATCH_STRATEGY: "ALL", LOG_LEVEL: "loud" },
      waitReady: false,
    });
    expect((await server.exited).code).toBe(1);
    const err = server.stderr();
    expect(err).toContain('SAGEMAKER_MODEL_SERVER_WORKERS ("0") must be an integer from 1 to 256');
    expect(err).toContain('SAGEMAKER_BATCH_STRATEGY ("ALL") must be MULTI_RECORD or SINGLE_RECORD');
    expect(err).toContain('LOG_LEVEL ("loud") must be one of debug, info, warn, error, silent');
  });

  it("on SIGTERM stops accepting, finishes the request in flight, and exits 0", async () => {
    const server = await startServer();
    const body = "30,1000,red\n40,2000,blue\n";
    const socket = net.connect(server.port, "127.0.0.1");
    let response = "";
    socket.on("data", (c: Buffer) => (response += c.toString()));
    const closed = new Promise((resolve) => socket.on("close", resolve));
    await new Promise((resolve) => socket.once("connect", resolve));
    // Headers and half the body: the request is in flight when the signal arrives.
    socket.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await sleep(150);
    server.proc.kill("SIGTERM");
    await sleep(150);
    await expect(request(server.port, { path: "/ping", timeoutMs: 1000 })).rejects.toThrow(/ECONNREFUSED/);
    socket.write(body.slice(10));
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response).toMatch(/\r\nConnection: close\r\n/i);
    expect(response.endsWith(`${expectedCsv(30, 1000, "red")}\n${expectedCsv(40, 2000, "blue")}\n`)).toBe(true);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs().map((l) => l.msg)).toEqual(expect.arrayContaining(["draining", "stopped"]));
  });

  it("answers /ping within a fraction of SageMaker's 2 s timeout while scoring a large batch", async () => {
    // 50 µs a row: the 40,000-row request below keeps the only worker busy for about 2 s.
    const server = await startServer({ env: { FAKE_SLOW_US_PER_ROW: "50" } });
    const big = invoke(server.port, "30,1000,red\n".repeat(40_000), "text/csv");
    await sleep(300);
    const t0 = performance.now();
    const ping = await request(server.port, { path: "/ping" });
    const pingMs = performance.now() - t0;
    const res = await big;
    expect(ping.status).toBe(200);
    expect(pingMs).toBeLessThan(500);
    expect(res.status).toBe(200);
    expect(res.body.split("\n")).toHaveLength(40_001);
    expect((await server.stop()).code).toBe(0);
  }, 30_000);
});

describe("several workers", () => {
  it("serves from every worker, replaces one that dies, and drains all on SIGTERM", async () => {
    const server = await startServer({ env: { SAGEMAKER_MODEL_SERVER_WORKERS: "2" } });
    await waitReady(server);
    for (let i = 0; i < 20; i++) expect((await invoke(server.port, "30,1000,red\n", "text/csv")).status).toBe(200);
    const params = JSON.parse((await request(server.port, { path: "/execution-parameters" })).body) as { MaxConcurrentTransforms: number };
    expect(params.MaxConcurrentTransforms).toBe(2);
    // /ping answers as soon as one worker listens; on a busy machine the second may still be starting.
    const ready = Date.now() + 10_000;
    while (!server.logs().some((l) => l.msg === "all workers listening") && Date.now() < ready) await sleep(50);
    const workerPids = [
      ...new Set(
        server
          .logs()
          .filter((l) => l.msg === "listening")
          .map((l) => l.pid as number),
      ),
    ];
    expect(workerPids).toHaveLength(2);
    expect(server.logs().find((l) => l.msg === "all workers listening")).toMatchObject({ role: "primary", workers: 2 });

    process.kill(workerPids[0], "SIGKILL");
    const deadline = Date.now() + 10_000;
    while (server.logs().filter((l) => l.msg === "listening").length < 3 && Date.now() < deadline) await sleep(50);
    expect(server.logs().find((l) => l.msg === "worker died; starting a replacement")).toMatchObject({ level: "error", signal: "SIGKILL" });
    for (let i = 0; i < 10; i++) expect((await invoke(server.port, "30,1000,red\n", "text/csv")).status).toBe(200);

    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }, 30_000);
});

describe("`ml-core serve` with a model trained by `ml-core train`", () => {
  let dir: string;
  let server: RunningServer;
  const rows = testRows(500);
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-core-serve-"));
    // A small training set with a numeric rule and a categorical effect, header and label last.
    const training = testRows(2000, 4, 11).map((r) => {
      const [x0, x1, , , color] = r.split(",");
      const z = Number(x0 || 0) * 0.05 - Number(x1 || 0) * 0.03 + (color === "red" ? 1 : -0.5);
      return `${r},${z > 0 ? "yes" : "no"}`;
    });
    fs.writeFileSync(path.join(dir, "train.csv"), ["x0,x1,x2,x3,color,y", ...training].join("\n") + "\n");
    // The SageMaker layout: <SAGEMAKER_BASE_DIR>/model.
    const train = spawnSync(
      process.execPath,
      [BIN, "train", "--train", path.join(dir, "train.csv"), "--model-dir", path.join(dir, "model"), "--hp", "label=y", "--hp", "num_round=20"],
      {
        encoding: "utf8",
      },
    );
    expect(train.status, train.stderr).toBe(0);
    server = await startServer({ script: BIN, env: { SAGEMAKER_BASE_DIR: dir, ML_CORE_MODEL_NAME: "churn" } });
  }, 60_000);
  afterAll(async () => {
    expect((await server.stop()).code).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["text/csv", "csv", rows.join("\n") + "\n"],
    ["application/json", "json", JSON.stringify({ instances: rows.map((r) => r.split(",")) })],
    ["application/jsonlines", "jsonlines", rows.map((r) => JSON.stringify(r.split(","))).join("\n")],
  ] as const)("answers %s exactly as the in-process scorer does", async (contentType, format, body) => {
    const expected = [...new Scorer(loadPredictor(path.join(dir, "model"))).score(Buffer.from(body), format, "csv")].join("");
    const res = await invoke(server.port, body, contentType, "text/csv");
    expect(res.status).toBe(200);
    expect(res.body).toBe(expected);
    expect(res.body.split("\n")).toHaveLength(501);
  });

  it("logs what it loaded, with its identity", () => {
    const identity = modelIdentity(fs.readFileSync(path.join(dir, "model", MODEL_FILE)));
    expect(server.logs().find((l) => l.msg === "model loaded")).toMatchObject({
      modelDir: path.join(dir, "model"),
      objective: "binary",
      features: 5,
      classes: 2,
      identity,
    });
  });

  it("names the model it served in every invocation's X-Amzn-SageMaker-Custom-Attributes", async () => {
    const res = await invoke(server.port, "50,-50,0,0,red\n", "text/csv");
    expect(res.headers[MODEL_IDENTITY_HEADER.toLowerCase()]).toBe(modelIdentity(fs.readFileSync(path.join(dir, "model", MODEL_FILE))));
  });

  it("serves the Open Inference Protocol under ML_CORE_MODEL_NAME, its identity as the version", async () => {
    const identity = modelIdentity(fs.readFileSync(path.join(dir, "model", MODEL_FILE)));
    expect((await request(server.port, { path: "/v2/health/ready" })).status).toBe(200);
    expect((await request(server.port, { path: "/v2/models/churn/ready" })).status).toBe(200);
    expect(JSON.parse((await request(server.port, { path: "/v2/models/churn" })).body)).toMatchObject({ name: "churn", versions: [identity] });
    const inputs = [
      { name: "input-0", shape: [2, 4], datatype: "FP64", data: [50, -50, 0, 0, -50, 50, 0, 0] },
      { name: "color", shape: [2], datatype: "BYTES", data: ["red", "blue"] },
    ];
    const res = await request(server.port, {
      method: "POST",
      path: "/v2/models/churn/infer",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ inputs }),
    });
    expect(JSON.parse(res.body)).toMatchObject({
      model_name: "churn",
      model_version: identity,
      outputs: [{ name: "predicted_label", data: ["yes", "no"] }, { name: "probabilities" }],
    });
  });

  it("predicts the rule it was trained on", async () => {
    const res = await invoke(server.port, "50,-50,0,0,red\n-50,50,0,0,blue\n", "text/csv");
    expect(res.body.split("\n").map((l) => l.split(",")[0])).toEqual(["yes", "no", ""]);
  });
});

it("`ml-core serve` exits 1 naming the missing model file", async () => {
  const server = await startServer({ script: BIN, env: { SAGEMAKER_BASE_DIR: "/nonexistent-base" }, waitReady: false });
  expect((await server.exited).code).toBe(1);
  expect(server.logs().find((l) => l.level === "error")?.msg).toBe(
    "cannot load the model from /nonexistent-base/model: cannot read model /nonexistent-base/model/model.json: no such file (nor an XGBoost model xgboost-model beside it)",
  );
});
