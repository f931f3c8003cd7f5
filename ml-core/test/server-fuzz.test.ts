/**
 * Property test: whatever arrives — random bytes, mangled CSV and JSON, odd headers, broken HTTP —
 * the server answers with a client error or a prediction, never a 500, never dies, and /ping keeps
 * answering; likewise on the Open Inference Protocol's routes (malformed JSON, wrong shapes, huge
 * dimensions, wrong datatypes), whose errors are `{"error": ...}` and whose /v2/health/ready keeps
 * answering. Seeded, so a failure replays; bounded in count and time. The app and its HTTP server
 * run in this process, as `ml-core serve` builds them.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPredictor } from "../src/model/load";
import type { Predictor } from "../src/model/predictor";
import { fakePredictor } from "./server-fake-predictor.cjs";
import { invoke, request, rng } from "./server-helpers";
import { mountApp, type MountedApp } from "./server-inprocess";
import { writeTestModel } from "./server-model";

const SEED = 20240607;
const REQUESTS = 1000;
const RAW_CONNECTIONS = 60;
const TIME_BUDGET_MS = 15_000;
const CONCURRENCY = 8;

const CONTENT_TYPES = [
  "text/csv",
  "application/json",
  "application/jsonlines",
  "text/csv; charset=utf-8",
  undefined,
  "application/json; charset=latin1",
  "text/csv;;;=",
  "*/*",
  "",
  "application/x-ndjson; q=0.1",
];
const ACCEPTS = [
  undefined,
  "*/*",
  "text/csv",
  "application/json",
  "application/jsonlines",
  "text/*;q=0.2, application/*",
  "application/xml",
  "q=1",
  ",,,",
  "*/*;q=abc",
  "text/csv;q=0",
];
const TRICKY = [
  '"',
  ",",
  "\r",
  "\n",
  "\0",
  "\uffff",
  "\ud800",
  " ",
  "-",
  "+",
  ".",
  "e",
  "E",
  "[",
  "]",
  "{",
  "}",
  ":",
  "null",
  "NaN",
  "1e400",
  "-0",
  "0x1F",
  "Infinity",
  "\\",
  "red",
];

interface Corpus {
  readonly csv: string;
  readonly json: string;
  readonly jsonl: string;
  /** A valid Open Inference Protocol request (one tensor per feature). */
  readonly infer: string;
}

/** Valid bodies to mangle, for the fake model (age, income, color) and the real one (x0-x3, color). */
const FAKE: Corpus = {
  csv: "30,1000,red\n40,,blue\n-5.5,2e3,green\n",
  json: '{"instances": [[30, 1000, "red"], {"age": 40, "color": "blue"}, {"features": [1, 2, "green"]}]}',
  jsonl: '[30,1000,"red"]\n{"age":40}\n{"features":[1,2,"green"]}\n',
  infer: inferBody(["age", "income"]),
};
const REAL: Corpus = {
  csv: "30,1000,1.5,-2,red\n40,,NA,7e-3,blue\n-5.5,2e3,0,0,green\n",
  json: '{"instances": [[30, 1000, 1, 2, "red"], {"x0": 40, "color": "blue"}, {"features": [1, 2, 3, 4, "green"]}]}',
  jsonl: '[30,1000,1,2,"red"]\n{"x0":40}\n{"features":[1,2,3,4,"green"]}\n',
  infer: inferBody(["x0", "x1", "x2", "x3"]),
};

/** Two rows as one FP64 tensor per numeric feature and a BYTES tensor for "color". */
function inferBody(numeric: string[]): string {
  const inputs = numeric.map((name, i) => ({ name, shape: [2], datatype: "FP64", data: [i + 0.5, null] }));
  return JSON.stringify({ id: "1", inputs: [...inputs, { name: "color", shape: [2], datatype: "BYTES", data: ["red", "blue"] }] });
}

const DATATYPES = ["FP64", "FP32", "FP16", "INT8", "INT64", "UINT8", "UINT64", "BOOL", "BYTES", "fp64", "STRING", ""];
const DIMS = [0, 1, 2, 3, -1, 1.5, 2 ** 53, 1e15, 1e308, "2", null];
const ELEMENTS = [0, -0, 1.5, 1e308, -1e-308, 300, -129, 2 ** 64, "red", "1", "", "NaN", true, null, [], {}, [1, [2]]];

/**
 * A request to /v2/models/model/infer: the valid one with its structure changed (shapes, huge
 * dimensions, datatypes, elements, names, nesting), or its text mangled.
 */
function randomInfer(rand: () => number, corpus: Corpus): string | Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  if (rand() < 0.3) return mutate(corpus.infer, rand);
  const doc = JSON.parse(corpus.infer) as { id?: unknown; inputs: Record<string, unknown>[]; outputs?: unknown };
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const input = pick(doc.inputs);
    const op = rand();
    if (input === undefined) break;
    if (op < 0.2) input.shape = Array.from({ length: Math.floor(rand() * 4) }, () => pick(DIMS));
    else if (op < 0.35) input.datatype = pick(DATATYPES);
    else if (op < 0.55 && Array.isArray(input.data)) (input.data as unknown[])[Math.floor(rand() * 3)] = pick(ELEMENTS);
    else if (op < 0.65)
      input.data = pick([
        null,
        "abc",
        {},
        [
          [1, 2],
          [3, 4],
        ],
        Array.from({ length: 10_000 }, () => 1),
      ]);
    else if (op < 0.75) input.name = pick(["", "x9", "color", "input-0", 7, null]);
    else if (op < 0.82)
      doc.inputs.push({
        name: "input-0",
        shape: [2, Math.floor(rand() * 6)],
        datatype: "FP64",
        data: [
          [1, 2],
          [3, 4],
        ],
      });
    else if (op < 0.88) doc.inputs.splice(Math.floor(rand() * doc.inputs.length), 1);
    else if (op < 0.94) doc.outputs = pick([[{ name: "probabilities" }], [{ name: "nope" }], "all", [{}], []]);
    else doc.id = pick([42, null, "", { a: 1 }]);
  }
  return JSON.stringify(doc);
}

/** A path under /v2 with a method: the real routes, wrong names and versions, and broken paths. */
function randomV2Request(rand: () => number): { method: string; path: string } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const path = pick([
    "/v2",
    "/v2/",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/health/",
    "/v2/models/model",
    "/v2/models/model/ready",
    "/v2/models/other/ready",
    "/v2/models/model/versions/1/ready",
    "/v2/models/model/versions//infer",
    "/v2/models/%ZZ/infer",
    "/v2/models/%E0%A4%A/ready",
    "/v2/models//infer",
    "/v2/models/model/infer",
    "/v2/models/model/infer/more",
    "/v2/models/model/infer?x=1",
    "/v2//health",
    "/v2/models/" + "a".repeat(5000),
  ]);
  return { method: pick(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]), path };
}

/** Whether a body is the protocol's error object. */
function isErrorJson(body: string): boolean {
  try {
    return typeof (JSON.parse(body) as { error?: unknown }).error === "string";
  } catch {
    return false;
  }
}

function mutate(text: string, rand: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (s.length + 1));
    const op = rand();
    const piece = TRICKY[Math.floor(rand() * TRICKY.length)];
    if (op < 0.4) s = s.slice(0, at) + piece + s.slice(at);
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 5));
    else if (op < 0.85) s = s.slice(0, at);
    else s = s.slice(0, at) + piece.repeat(1 + Math.floor(rand() * 50)) + s.slice(at);
  }
  return s;
}

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

function randomBody(rand: () => number, corpus: Corpus): string | Buffer {
  const kind = rand();
  if (kind < 0.2) return randomBytes(rand, Math.floor(rand() * 2000));
  if (kind < 0.45) return mutate(corpus.csv, rand);
  if (kind < 0.7) return mutate(corpus.json, rand);
  if (kind < 0.85) return mutate(corpus.jsonl, rand);
  if (kind < 0.9) return "[".repeat(1 + Math.floor(rand() * 100_000));
  if (kind < 0.95) return '{"instances": ' + "[".repeat(Math.floor(rand() * 1000)) + "30" + "]".repeat(Math.floor(rand() * 1000)) + "}";
  return Array.from({ length: 1 + Math.floor(rand() * 200) }, () => TRICKY[Math.floor(rand() * TRICKY.length)]).join(",");
}

describe.each([
  ["the hand-written test predictor", FAKE],
  ["a real model directory", REAL],
])("fuzzing a server with %s", (_what, corpus) => {
  let server: MountedApp;
  let dir: string | undefined;
  beforeAll(async () => {
    let predictor: Predictor = fakePredictor();
    if (corpus === REAL) {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-core-fuzz-"));
      writeTestModel(path.join(dir, "model"), { trees: 20 });
      predictor = loadPredictor(path.join(dir, "model"));
    }
    // In process: an exception escaping the app or the HTTP server would fail this test run.
    server = await mountApp({ predictor });
  });
  afterAll(async () => {
    await server.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS} malformed requests with client errors only, and keeps answering /ping`, async () => {
    const rand = rng(SEED);
    const cases = Array.from({ length: REQUESTS }, () => ({
      body: randomBody(rand, corpus),
      contentType: CONTENT_TYPES[Math.floor(rand() * CONTENT_TYPES.length)],
      accept: ACCEPTS[Math.floor(rand() * ACCEPTS.length)],
    }));
    const deadline = Date.now() + TIME_BUDGET_MS;
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    let next = 0;
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length && Date.now() < deadline) {
        const i = next++;
        const c = cases[i];
        const res = await invoke(server.port, c.body, c.contentType, c.accept);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (![200, 400, 406, 415].includes(res.status)) unexpected.push(`case ${i} (seed ${SEED}): ${res.status} ${res.body.slice(0, 200)}`);
        if (i % 50 === 0) expect((await request(server.port, { path: "/ping" })).status).toBe(200);
      }
    });
    await Promise.all(workers);
    expect(unexpected).toEqual([]);
    expect(next).toBeGreaterThan(REQUESTS / 4);
    // The corpus reaches both outcomes: some mangled inputs still parse, most do not.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect((await request(server.port, { path: "/ping" })).status).toBe(200);
    expect((await invoke(server.port, corpus.csv, "text/csv")).body.split("\n")).toHaveLength(4);
  }, 60_000);

  it(`answers ${REQUESTS} malformed Open Inference Protocol requests with client errors only, and keeps /v2/health/ready answering`, async () => {
    const rand = rng(SEED + 2);
    const cases = Array.from({ length: REQUESTS }, () =>
      rand() < 0.8
        ? { method: "POST", path: "/v2/models/model/infer", body: randomInfer(rand, corpus) }
        : { ...randomV2Request(rand), body: rand() < 0.5 ? corpus.infer : undefined },
    );
    const deadline = Date.now() + TIME_BUDGET_MS;
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    let next = 0;
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length && Date.now() < deadline) {
        const i = next++;
        const c = cases[i];
        // Content-Length always: Node's client sends a GET's body without one, which is not HTTP.
        const headers = { "Content-Type": "application/json", "Content-Length": c.body === undefined ? 0 : Buffer.byteLength(c.body) };
        const res = await request(server.port, { method: c.method, path: c.path, headers, body: c.body });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // Errors carry {"error": ...}; a health answer has no body; HEAD answers have none at all.
        const wellFormed = res.status === 200 || c.method === "HEAD" || isErrorJson(res.body);
        if (![200, 400, 404, 405].includes(res.status) || !wellFormed)
          unexpected.push(`case ${i} (seed ${SEED + 2}): ${c.method} ${c.path.slice(0, 60)} ${res.status} ${res.body.slice(0, 200)}`);
        if (i % 50 === 0) expect((await request(server.port, { path: "/v2/health/ready" })).status).toBe(200);
      }
    });
    await Promise.all(workers);
    expect(unexpected).toEqual([]);
    expect(next).toBeGreaterThan(REQUESTS / 4);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect((await request(server.port, { path: "/v2/health/ready" })).status).toBe(200);
    const ok = await request(server.port, { method: "POST", path: "/v2/models/model/infer", body: corpus.infer });
    expect((JSON.parse(ok.body) as { outputs: unknown[] }).outputs).toHaveLength(2);
  }, 60_000);

  it(`survives ${RAW_CONNECTIONS} connections of broken HTTP`, async () => {
    const rand = rng(SEED + 1);
    const heads = [
      "",
      "POST /invocations HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "POST /invocations HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST /invocations HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      `GET /ping HTTP/1.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`,
      "POST /invocations HTTP/1.1\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\n30,1",
      'POST /v2/models/model/infer HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inputs": [',
      "GET /v2/health/ready HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for (let i = 0; i < RAW_CONNECTIONS; i++) {
      const head = heads[i % heads.length];
      const payload = Buffer.concat([Buffer.from(head), randomBytes(rand, Math.floor(rand() * 300))]);
      await new Promise<void>((resolve) => {
        const socket = net.connect(server.port, "127.0.0.1", () => {
          socket.end(payload);
        });
        socket.on("data", () => undefined);
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        socket.setTimeout(2000, () => socket.destroy());
      });
    }
    expect((await request(server.port, { path: "/ping" })).status).toBe(200);
    expect((await request(server.port, { path: "/v2/health/ready" })).status).toBe(200);
    expect(server.server.listening).toBe(true);
  }, 60_000);
});
