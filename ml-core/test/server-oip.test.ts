/**
 * The Open Inference Protocol (KServe V2 REST) routes of the app, in process: health, metadata,
 * inference with per-feature tensors and with one numeric matrix, its errors, and predictions
 * bit for bit equal to /invocations' on trained models with a categorical feature.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServedModel, saveModel } from "../src/index";
import { createApp } from "../src/server/app";
import { fakePredictor, score } from "./server-fake-predictor.cjs";
import { lcg, readVegaJson, tmpDir, toCsv, writeFile } from "./helpers";
import { invoke, request, type Response } from "./server-helpers";
import { mountApp, type MountedApp } from "./server-inprocess";
import { trainFiles } from "./train-helpers";

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const COLOR: Record<string, number> = { red: 0, green: 1, blue: 2 };
const IDENTITY = "model-sha256=fake";

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}
interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: Tensor[];
}

function post(port: number, urlPath: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return request(port, {
    method: "POST",
    path: urlPath,
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const json = <T>(res: Response): T => JSON.parse(res.body) as T;

/** Two rows of the fake model (age, income, color) as one tensor per feature. */
const PER_FEATURE = [
  { name: "age", shape: [2], datatype: "FP64", data: [30, 40] },
  { name: "income", shape: [2], datatype: "FP64", data: [1000, null] },
  { name: "color", shape: [2], datatype: "BYTES", data: ["red", "blue"] },
];
const P1 = sigmoid(score(30, 1000, COLOR.red));
const P2 = sigmoid(score(40, NaN, COLOR.blue));

describe("the Open Inference Protocol routes", () => {
  let server: MountedApp;
  beforeAll(async () => {
    server = await mountApp({ predictor: fakePredictor(), modelIdentity: IDENTITY });
  });
  afterAll(() => server.close());

  it.each(["/v2/health/live", "/v2/health/ready", "/v2/models/model/ready", `/v2/models/model/versions/${IDENTITY}/ready`])(
    "answers GET and HEAD %s with 200 and an empty body",
    async (p) => {
      const get = await request(server.port, { path: p });
      expect([get.status, get.body]).toEqual([200, ""]);
      expect((await request(server.port, { method: "HEAD", path: p })).status).toBe(200);
    },
  );

  it("answers GET /v2 with the server metadata", async () => {
    const res = await request(server.port, { path: "/v2" });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(json(res)).toEqual({ name: "ml-core", version: expect.stringMatching(/^\d+\.\d+\.\d+/), extensions: [] });
  });

  it("lists one input per feature (FP64 numeric, BYTES categorical) and the outputs with the class order", async () => {
    const res = await request(server.port, { path: "/v2/models/model" });
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({
      name: "model",
      versions: [IDENTITY],
      platform: "ml-core_gbdt",
      inputs: [
        { name: "age", datatype: "FP64", shape: [-1] },
        { name: "income", datatype: "FP64", shape: [-1] },
        { name: "color", datatype: "BYTES", shape: [-1] },
      ],
      outputs: [
        { name: "predicted_label", datatype: "BYTES", shape: [-1] },
        { name: "probabilities", datatype: "FP64", shape: [-1, 2], parameters: { class_0: "no", class_1: "yes" } },
      ],
    });
  });

  it("infers from one tensor per feature, echoes the id and names the model and its version", async () => {
    const res = await post(server.port, "/v2/models/model/infer", { id: "42", inputs: PER_FEATURE });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(json<InferResponse>(res)).toEqual({
      model_name: "model",
      model_version: IDENTITY,
      id: "42",
      outputs: [
        { name: "predicted_label", datatype: "BYTES", shape: [2], data: ["yes", "yes"] },
        { name: "probabilities", datatype: "FP64", shape: [2, 2], data: [1 - P1, P1, 1 - P2, P2] },
      ],
    });
  });

  it("answers the same to [N, 1] tensors in nested form, to a numeric matrix beside the category, and on the versioned path", async () => {
    const expected = json<InferResponse>(await post(server.port, "/v2/models/model/infer", { inputs: PER_FEATURE })).outputs;
    const nested = [
      { name: "age", shape: [2, 1], datatype: "INT32", data: [[30], [40]] },
      { name: "income", shape: [2, 1], datatype: "FP32", data: [1000, null] },
      { name: "color", shape: [2, 1], datatype: "BYTES", data: [["red"], ["blue"]] },
    ];
    const matrix = [
      { name: "color", shape: [2], datatype: "BYTES", data: ["red", "blue"] },
      {
        name: "input-0",
        shape: [2, 2],
        datatype: "FP32",
        data: [
          [30, 1000],
          [40, null],
        ],
      },
    ];
    for (const [p, inputs] of [
      ["/v2/models/model/infer", nested],
      ["/v2/models/model/infer", matrix],
      [`/v2/models/model/versions/${encodeURIComponent(IDENTITY)}/infer`, PER_FEATURE],
    ] as const) {
      const res = await post(server.port, p, { inputs });
      expect(res.status, res.body).toBe(200);
      expect(json<InferResponse>(res).outputs).toEqual(expected);
      expect(json<InferResponse>(res)).not.toHaveProperty("id");
    }
  });

  it("returns only the outputs asked for, in the order asked", async () => {
    const res = await post(server.port, "/v2/models/model/infer", { inputs: PER_FEATURE, outputs: [{ name: "probabilities" }] });
    expect(json<InferResponse>(res).outputs.map((o) => o.name)).toEqual(["probabilities"]);
  });

  it.each([
    ["a body that is not JSON", "{inputs", /request body is not valid JSON/],
    [
      "a request without inputs",
      { id: "1" },
      /"inputs" must be a non-empty array of input tensors; the model expects one input per feature, each of shape \[N\] or \[N, 1\]: "age" FP64, "income" FP64, "color" BYTES; or the 2 numeric features as one \[N, 2\] tensor under another name, beside "color"/,
    ],
    ["an id that is not a string", { id: 42, inputs: PER_FEATURE }, /"id" must be a string, got a number/],
    [
      "a datatype outside the spec",
      { inputs: [{ ...PER_FEATURE[0], datatype: "FLOAT" }, ...PER_FEATURE.slice(1)] },
      /input "age": datatype "FLOAT" is not one of BOOL, UINT8, .*FP64, BYTES/,
    ],
    [
      "a feature tensor of the wrong rank",
      { inputs: [{ ...PER_FEATURE[0], shape: [1, 2] }, ...PER_FEATURE.slice(1)] },
      /input "age": shape \[1, 2\] is not \[N\] or \[N, 1\]/,
    ],
    [
      "fewer elements than the shape holds",
      { inputs: [{ ...PER_FEATURE[0], data: [30] }, ...PER_FEATURE.slice(1)] },
      /input "age": shape \[2\] holds 2 elements, but "data" has 1; expected shape \[N\] or \[N, 1\]/,
    ],
    [
      "a huge dimension",
      { inputs: [{ ...PER_FEATURE[0], shape: [1e15] }, ...PER_FEATURE.slice(1)] },
      /input "age": shape \[1000000000000000\] holds 1000000000000000 elements, but "data" has 2/,
    ],
    [
      "a dimension beyond a double's integers",
      { inputs: [{ ...PER_FEATURE[0], shape: [1e300] }] },
      /input "age": shape \[1e\+300\] must be \[N\] or \[N, k\] with whole numbers >= 0/,
    ],
    ["a negative dimension", { inputs: [{ ...PER_FEATURE[0], shape: [-1] }] }, /input "age": shape \[-1\] must be/],
    [
      "inputs that disagree on the rows",
      { inputs: [...PER_FEATURE.slice(0, 2), { name: "color", shape: [1], datatype: "BYTES", data: ["red"] }] },
      /input "color" has 1 rows \(shape \[1\]\) but input "age" has 2/,
    ],
    ["a missing feature", { inputs: PER_FEATURE.slice(0, 2) }, /missing input "color" \(BYTES \[N\]\)/],
    [
      "a number in a BYTES tensor",
      { inputs: [...PER_FEATURE.slice(0, 2), { name: "color", shape: [2], datatype: "BYTES", data: ["red", 7] }] },
      /input "color" element \[1\]: expected a string \(BYTES\), got a number/,
    ],
    [
      "a string in an FP64 tensor",
      { inputs: [{ ...PER_FEATURE[0], data: [30, "40"] }, ...PER_FEATURE.slice(1)] },
      /input "age" element \[1\]: expected a number \(FP64\), got a string/,
    ],
    [
      "an INT8 out of range",
      { inputs: [{ ...PER_FEATURE[0], datatype: "INT8", data: [30, 300] }, ...PER_FEATURE.slice(1)] },
      /input "age" element \[1\]: expected an integer from -128 to 127 \(INT8\), got 300/,
    ],
    [
      "text that is no number for a numeric feature",
      { inputs: [{ ...PER_FEATURE[0], datatype: "BYTES", data: ["30", "old"] }, ...PER_FEATURE.slice(1)] },
      /input "age" element \[1\]: feature "age" is numeric but got "old"/,
    ],
    [
      "a bad element of the matrix",
      { inputs: [PER_FEATURE[2], { name: "x", shape: [2, 2], datatype: "FP64", data: [1, 2, 3, "4"] }] },
      /input "x" element \[1, 1\]: expected a number/,
    ],
    [
      "a matrix of the wrong width",
      { inputs: [PER_FEATURE[2], { name: "x", shape: [2, 3], datatype: "FP64", data: [1, 2, 3, 4, 5, 6] }] },
      /input "x": shape \[2, 3\] is not \[N, 2\]: a tensor not named after a feature holds the 2 numeric features \(age, income\) in that order/,
    ],
    [
      "a ragged nested matrix",
      { inputs: [PER_FEATURE[2], { name: "x", shape: [2, 2], datatype: "FP64", data: [[1, 2], [3]] }] },
      /input "x": data\[1\] must be an array of 2 elements/,
    ],
    [
      "an unknown one-dimensional input",
      { inputs: [...PER_FEATURE, { name: "colour", shape: [2], datatype: "BYTES", data: ["a", "b"] }] },
      /unknown input "colour" with shape \[2\]; the model expects/,
    ],
    [
      "a feature given twice",
      { inputs: [...PER_FEATURE, { name: "x", shape: [2, 2], datatype: "FP64", data: [1, 2, 3, 4] }] },
      /feature "age" is given twice: by input "x" and by input "age"/,
    ],
    ["an input name given twice", { inputs: [...PER_FEATURE, PER_FEATURE[0]] }, /input "age" is given twice/],
    ["no rows", { inputs: PER_FEATURE.map((t) => ({ ...t, shape: [0], data: [] })) }, /the request holds no rows/],
    [
      "an unknown output",
      { inputs: PER_FEATURE, outputs: [{ name: "score" }] },
      /unknown output "score"; the model's outputs are predicted_label, probabilities/,
    ],
  ])("answers 400 with a JSON error naming what is wrong: %s", async (_what, body, message) => {
    const res = await post(server.port, "/v2/models/model/infer", body);
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(json<{ error: string }>(res).error).toMatch(message);
  });

  it.each([
    ["GET", "/v2/models/other", /unknown model "other"; this server serves "model"/],
    ["GET", "/v2/models/other/ready", /unknown model "other"/],
    ["POST", "/v2/models/other/infer", /unknown model "other"/],
    ["POST", "/v2/models/model/versions/2/infer", /model "model" has no version "2"; its version is "model-sha256=fake"/],
    ["GET", "/v2/models", /no route GET \/v2\/models; Open Inference Protocol routes: GET \/v2\/health\/live/],
    ["GET", "/v2/health/started", /no route/],
  ])("answers %s %s with 404 and a JSON error", async (method, p, message) => {
    const res = await request(server.port, {
      method,
      path: p,
      headers: { "Content-Type": "application/json" },
      body: method === "POST" ? JSON.stringify({ inputs: PER_FEATURE }) : undefined,
    });
    expect(res.status).toBe(404);
    expect(json<{ error: string }>(res).error).toMatch(message);
  });

  it("answers a wrong method with 405, Allow and a JSON error", async () => {
    const get = await request(server.port, { path: "/v2/models/model/infer" });
    expect([get.status, get.headers.allow]).toEqual([405, "POST"]);
    expect(json<{ error: string }>(get).error).toBe("method not allowed; use POST");
    const post2 = await request(server.port, { method: "POST", path: "/v2/health/ready", body: "{}" });
    expect([post2.status, post2.headers.allow]).toEqual([405, "GET, HEAD"]);
  });

  it("refuses Triton's binary tensor data with a 400 that says to send JSON", async () => {
    const res = await post(server.port, "/v2/models/model/infer", { inputs: PER_FEATURE }, { "Inference-Header-Content-Length": "10" });
    expect(res.status).toBe(400);
    expect(json<{ error: string }>(res).error).toMatch(/binary tensor data .* is not supported/);
  });

  it("answers a bad percent-escape in the model name with a JSON 400", async () => {
    const res = await request(server.port, { path: "/v2/models/%E0%A4%A/ready" });
    expect(res.status).toBe(400);
    expect(json<{ error: string }>(res).error).toMatch(/malformed percent-escape/);
  });

  it("logs inferences with their rows at info level, and health probes only at debug", async () => {
    const before = server.logs().length;
    await request(server.port, { path: "/v2/health/ready" });
    await request(server.port, { path: "/v2/models/model/ready" });
    await post(server.port, "/v2/models/model/infer", { inputs: PER_FEATURE });
    const lines = server.logs().slice(before);
    expect(lines).toEqual([expect.objectContaining({ level: "info", msg: "request", method: "POST", path: "/v2/models/model/infer", status: 200, rows: 2 })]);
  });
});

describe("the Open Inference Protocol routes' limits and life cycle", () => {
  it("applies the payload limit of /invocations, answering 413 as JSON", async () => {
    const server = await mountApp({ predictor: fakePredictor(), maxPayloadBytes: 1000 });
    try {
      const big = { inputs: [{ name: "age", shape: [300], datatype: "FP64", data: Array.from({ length: 300 }, () => 12345) }] };
      const res = await post(server.port, "/v2/models/model/infer", big);
      expect(res.status).toBe(413);
      expect(json<{ error: string }>(res).error).toMatch(/request body exceeds/);
      expect((await invoke(server.port, "1,".repeat(600), "text/csv")).status).toBe(413);
    } finally {
      await server.close();
    }
  });

  it("is not ready while draining, but stays live", async () => {
    const server = await mountApp({ predictor: fakePredictor() });
    try {
      server.app.drain();
      expect((await request(server.port, { path: "/v2/health/ready" })).status).toBe(400);
      expect((await request(server.port, { path: "/v2/models/model/ready" })).status).toBe(400);
      expect((await request(server.port, { path: "/v2/health/live" })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("serves the model under the configured name, without a version when it has no identity", async () => {
    const server = await mountApp({ predictor: fakePredictor({ objective: "regression" }), oipModelName: "fraud-v2" });
    try {
      expect((await request(server.port, { path: "/v2/models/model" })).status).toBe(404);
      const meta = json<Record<string, unknown>>(await request(server.port, { path: "/v2/models/fraud-v2" }));
      expect(meta).not.toHaveProperty("versions");
      expect(meta.outputs).toEqual([{ name: "score", datatype: "FP64", shape: [-1] }]);
      const res = json<InferResponse>(await post(server.port, "/v2/models/fraud-v2/infer", { inputs: PER_FEATURE }));
      expect(res).toEqual({
        model_name: "fraud-v2",
        outputs: [{ name: "score", datatype: "FP64", shape: [2], data: [score(30, 1000, 0), score(40, NaN, 2)] }],
      });
    } finally {
      await server.close();
    }
  });

  it.each(["", "a/b", "-x", "x y", "a".repeat(254)])("refuses the model name %j", (name) => {
    expect(() => createApp({ predictor: fakePredictor(), oipModelName: name })).toThrow(/oipModelName .* must be 1-253 letters, digits/);
  });
});

/**
 * Trained models with a categorical feature: every held-out row through /invocations (JSON
 * instances) and through /v2 (per-feature tensors, and the numeric matrix), compared bit for bit.
 */
describe("predictions of /v2/models/{name}/infer and /invocations", () => {
  const dir = tmpDir("ml-core-oip-");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Trains on `rows`, serves the model, and compares the two routes on `test` (values as in the CSV: null is missing). */
  async function compare(rows: Record<string, unknown>[], test: Record<string, unknown>[], label: string, columns: string[]): Promise<number> {
    const train = writeFile(path.join(dir, `${label}.csv`), toCsv(rows, columns));
    const trained = trainFiles([train], { label, num_round: "30" });
    const modelDir = path.join(dir, `${label}-model`);
    saveModel(modelDir, trained.model);
    const { predictor, identity } = loadServedModel(modelDir);
    const server = await mountApp({ predictor, modelIdentity: identity });
    try {
      const features = predictor.features;
      expect(features.some((f) => f.kind === "categorical")).toBe(true);
      const instances = test.map((r) => features.map((f) => r[f.name] ?? null));
      const sage = json<{ predictions: { probabilities?: Record<string, number>; score?: number }[] }>(
        await invoke(server.port, JSON.stringify({ instances }), "application/json"),
      );
      const expected = sage.predictions.flatMap((p) => (p.score !== undefined ? [p.score] : (predictor.classes ?? []).map((c) => p.probabilities![c]!)));

      const perFeature = features.map((f, j) => ({
        name: f.name,
        shape: [test.length],
        datatype: f.kind === "numeric" ? "FP64" : "BYTES",
        data: instances.map((row) => row[j]),
      }));
      const numeric = features.flatMap((f, j) => (f.kind === "numeric" ? [j] : []));
      const matrix = [
        { name: "input-0", shape: [test.length, numeric.length], datatype: "FP32", data: instances.map((row) => numeric.map((j) => row[j])) },
        ...perFeature.filter((_, j) => !numeric.includes(j)),
      ];
      for (const inputs of [perFeature, matrix]) {
        const res = await post(server.port, "/v2/models/model/infer", { inputs });
        expect(res.status, res.body).toBe(200);
        const out = json<InferResponse>(res).outputs.find((o) => o.name === (predictor.classes ? "probabilities" : "score"))!;
        const got = out.data as number[];
        expect(got).toHaveLength(expected.length);
        // toEqual treats 0 and -0 alike; Object.is compares the bits that matter.
        expect(got.every((v, i) => Object.is(v, expected[i]))).toBe(true);
      }
      return expected.length;
    } finally {
      await server.close();
    }
  }

  it("agree bit for bit on a binary model over numbers, a category, missing values and an unseen category", async () => {
    const rand = lcg(11);
    const colors = ["red", "green", "blue", "black"];
    const make = (n: number): Record<string, unknown>[] =>
      Array.from({ length: n }, () => {
        const x0 = Math.round((rand() * 20 - 10) * 1000) / 1000;
        const x1 = rand() < 0.1 ? null : Math.round(rand() * 1000) / 10;
        const color = colors[Math.floor(rand() * colors.length)]!;
        const z = x0 + (color === "red" ? 4 : color === "blue" ? -3 : 0) + ((x1 ?? 50) - 50) / 20 + (rand() - 0.5) * 4;
        return { x0, x1, color, y: z > 0 ? "yes" : "no" };
      });
    const test = make(200);
    test.push({ x0: 1.5, x1: 20, color: "purple" }, { x0: null, x1: null, color: null });
    expect(await compare(make(600), test, "y", ["x0", "x1", "color", "y"])).toBe(2 * 202);
  });

  it("agree bit for bit on a regression of cars' miles per gallon, with origin as a category", async () => {
    const rows = readVegaJson("cars.json").filter((r) => r.Miles_per_Gallon !== null);
    const columns = ["Miles_per_Gallon", "Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Origin"];
    expect(await compare(rows.slice(0, 300), rows.slice(300), "Miles_per_Gallon", columns)).toBe(rows.length - 300);
  });
});
