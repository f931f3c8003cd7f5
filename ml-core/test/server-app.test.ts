/**
 * The inference app in process: the server's own app factory and HTTP server (server/app.ts,
 * server/http-server.ts) on an ephemeral loopback port, spoken to over HTTP, with the hand-written
 * predictor of server-fake-predictor.cjs whose formula the expectations recompute. What needs a
 * process (signals, workers, the environment, `ml-core serve` itself) is in server-process.test.ts.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CUSTOM_ATTRIBUTES_MAX_LENGTH, loadServedModel, MODEL_FILE, MODEL_IDENTITY_HEADER, modelIdentity, modelSha256 } from "../src/index";
import { createApp } from "../src/server/app";
import { BUG_AGE, fakePredictor, score } from "./server-fake-predictor.cjs";
import { invoke, request } from "./server-helpers";
import { tmpDir } from "./helpers";
import { mountApp, type MountedApp } from "./server-inprocess";
import { testRows, writeTestModel } from "./server-model";

const MiB = 1024 * 1024;
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const COLOR: Record<string, number> = { red: 0, green: 1, blue: 2 };

/** The CSV line the server must answer for one input row of the binary fake model. */
function expectedCsv(age: number, income: number, color: string | undefined): string {
  const p = sigmoid(score(age, income, color === undefined ? NaN : (COLOR[color] ?? NaN)));
  return `${p >= 0.5 && 1 - p < p ? "yes" : "no"},${1 - p},${p}`;
}

describe("the app", () => {
  let server: MountedApp;
  beforeAll(async () => {
    server = await mountApp({ predictor: fakePredictor(), modelIdentity: "model-sha256=fake" });
  });
  afterAll(() => server.close());

  it("answers GET /ping with 200 and an empty body, and HEAD /ping too", async () => {
    const get = await request(server.port, { path: "/ping" });
    expect(get.status).toBe(200);
    expect(get.body).toBe("");
    expect((await request(server.port, { method: "HEAD", path: "/ping" })).status).toBe(200);
  });

  it("scores CSV rows in order, one output line per input line", async () => {
    const res = await invoke(server.port, "30,1000,red\n40,,blue\n-5.5,2e3,green\n", "text/csv");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.body).toBe([expectedCsv(30, 1000, "red"), expectedCsv(40, NaN, "blue"), expectedCsv(-5.5, 2000, "green")].join("\n") + "\n");
  });

  it("reads CRLF line ends, quoted fields, missing tokens, a BOM, a last line without newline, and skips blank lines", async () => {
    const body = '\ufeff30,1000,"red"\r\n\r\n40,NA,"blu""e, ok"\r\n"50",1000,\n7,?,red';
    const res = await invoke(server.port, body, "text/csv");
    expect(res.status).toBe(200);
    expect(res.body.trimEnd().split("\n")).toEqual([
      expectedCsv(30, 1000, "red"),
      expectedCsv(40, NaN, undefined),
      expectedCsv(50, 1000, undefined),
      expectedCsv(7, NaN, "red"),
    ]);
  });

  it("encodes an unseen category as missing rather than failing", async () => {
    const res = await invoke(server.port, "30,1000,purple\n", "text/csv");
    expect(res.status).toBe(200);
    expect(res.body).toBe(expectedCsv(30, 1000, undefined) + "\n");
  });

  it.each([
    ["instances of arrays", '{"instances": [[30, 1000, "red"], [40, null, "blue"]]}'],
    ["instances of objects keyed by feature (absent = missing)", '{"instances": [{"age": 30, "income": 1000, "color": "red"}, {"color": "blue", "age": 40}]}'],
    ["a bare array of instances", '[[30, "1000", "red"], [40, "", "blue"]]'],
    ["SageMaker's {features: [...]} instances", '{"instances": [{"features": [30, 1000, "red"]}, {"features": [40, null, "blue"]}]}'],
  ])("scores application/json: %s", async (_what, body) => {
    const res = await invoke(server.port, body, "application/json");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    const p1 = sigmoid(score(30, 1000, 0));
    const p2 = sigmoid(score(40, NaN, 2));
    expect(JSON.parse(res.body)).toEqual({
      predictions: [
        { predicted_label: "yes", probabilities: { no: 1 - p1, yes: p1 } },
        { predicted_label: "yes", probabilities: { no: 1 - p2, yes: p2 } },
      ],
    });
  });

  it("scores application/jsonlines, one output line per input line", async () => {
    const res = await invoke(server.port, '[30,1000,"red"]\n{"age":40,"color":"blue"}\n\n{"features":[-5.5,2000,"green"]}\n', "application/jsonlines");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/jsonlines");
    const lines = res.body
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { probabilities: { yes: number } });
    expect(lines.map((l) => l.probabilities.yes)).toEqual([sigmoid(score(30, 1000, 0)), sigmoid(score(40, NaN, 2)), sigmoid(score(-5.5, 2000, 1))]);
  });

  it.each([
    [undefined, "text/csv", "text/csv; charset=utf-8"],
    ["*/*", "text/csv", "text/csv; charset=utf-8"],
    [undefined, "application/json", "application/json"],
    ["*/*", "application/jsonlines", "application/jsonlines"],
    ["application/json", "text/csv", "application/json"],
    ["application/jsonlines", "text/csv", "application/jsonlines"],
    ["text/csv", "application/json", "text/csv; charset=utf-8"],
    ["text/csv; charset=utf-8", "application/json", "text/csv; charset=utf-8"],
    ["application/json;q=0.5, text/csv", "application/jsonlines", "text/csv; charset=utf-8"],
    ["text/*", "application/json", "text/csv; charset=utf-8"],
    ["application/xml, application/json", "text/csv", "application/json"],
  ])("Accept %s for a %s body answers %s", async (accept, contentType, expected) => {
    const body = contentType === "text/csv" ? "30,1000,red\n" : contentType === "application/json" ? '{"instances":[[30,1000,"red"]]}' : '[30,1000,"red"]\n';
    const res = await invoke(server.port, body, contentType, accept);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe(expected);
  });

  it("reads header names in any case, takes the first Content-Type and every Accept line, as Node does", async () => {
    /** One request written as raw bytes (the client libraries normalise headers); the whole response. */
    const raw = (headers: string[], body: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(server.port, "127.0.0.1");
        let response = "";
        socket.on("data", (c: Buffer) => (response += c.toString()));
        socket.on("error", reject);
        socket.on("close", () => resolve(response));
        socket.write(
          `POST /invocations HTTP/1.1\r\nHost: x\r\n${headers.map((h) => h + "\r\n").join("")}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
    const twoAccepts = await raw(["CONTENT-type: text/csv", "Accept: application/xml", "accept: application/json"], "30,1000,red\n");
    expect(twoAccepts).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(twoAccepts).toMatch(/\r\nContent-Type: application\/json\r\n/i);
    const twoTypes = await raw(["Content-Type: text/csv", "Content-Type: application/json"], "30,1000,red\n");
    expect(twoTypes).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(twoTypes.endsWith(`\r\n\r\n${expectedCsv(30, 1000, "red")}\n`)).toBe(true);
  });

  it.each([["application/xml"], ["text/html, application/pdf"], ["application/json;q=0"], ["image/*"]])(
    "answers 406 naming the supported types for Accept %s",
    async (accept) => {
      const res = await invoke(server.port, "30,1000,red\n", "text/csv", accept);
      expect(res.status).toBe(406);
      expect(res.body).toContain("text/csv, application/json, application/jsonlines");
    },
  );

  it.each([
    ["text/csv; charset=utf-8", 200],
    ["TEXT/CSV", 200],
    ["application/json; charset=UTF-8", 200],
    ["application/x-ndjson", 200],
    [undefined, 200],
    ["text/plain", 415],
    ["application/octet-stream", 415],
    ["application/x-www-form-urlencoded", 415],
    ["text/csv; charset=iso-8859-1", 415],
    ["nonsense", 415],
  ])("Content-Type %s is answered with %i", async (contentType, status) => {
    const body = contentType?.toLowerCase().startsWith("application/json")
      ? '{"instances":[[30,1000,"red"]]}'
      : contentType === "application/x-ndjson"
        ? '[30,1000,"red"]\n'
        : "30,1000,red\n";
    const res = await invoke(server.port, body, contentType);
    expect(res.status).toBe(status);
    if (status === 415) expect(res.body).toMatch(/unsupported (content type|charset)/);
  });

  it.each([
    ["a non-number in a numeric column", "text/csv", "30,1000,red\n31,lots,red\n", /^row 2, column 2 \(income\): .*"lots"/],
    ["too few columns", "text/csv", "30,1000,red\n30,1000\n", /^row 2: expected 3 features \(age, income, color\), found 2 columns/],
    ["too many columns", "text/csv", "30,1000,red,extra\n", /^row 1: expected 3 features .*found 4 columns/],
    ["an unterminated quote", "text/csv", '30,1000,"red\n', /^row 1: unterminated quoted field in column 3/],
    ["an empty body", "text/csv", "", /^the request body holds no rows/],
    ["only blank lines", "text/csv", "\n\r\n\n", /^the request body holds no rows/],
    ["invalid JSON", "application/json", '{"instances": [[30, 1000, "red"]', /^request body is not valid JSON/],
    ["a JSON object without instances", "application/json", '{"rows": []}', /^expected \{"instances": \[\.\.\.\]\} or an array of instances, got an object/],
    ["a short JSON instance", "application/json", '{"instances": [[30, 1000, "red"], [30]]}', /^row 2: expected 3 features .*found 1 value\n$/],
    ["an unknown JSON key", "application/json", '{"instances": [{"age": 30, "agee": 3}]}', /^row 1: unknown feature "agee"/],
    [
      "a nested JSON value",
      "application/json",
      '{"instances": [[30, [1], "red"]]}',
      /^row 1, column 2 \(income\): expected a number, string, boolean or null, got an array/,
    ],
    ["a non-number JSON string", "application/json", '[[30, "x", "red"]]', /^row 1, column 2 \(income\)/],
    ["a bad JSON line", "application/jsonlines", '[30,1000,"red"]\n[30,1000,\n', /^row 2 is not valid JSON/],
    ["a JSON line that is a number", "application/jsonlines", "42\n", /^row 1: expected an array of 3 values or an object keyed by feature name, got a number/],
  ])("answers 400 naming the row and column for %s", async (_what, contentType, body, message) => {
    const res = await invoke(server.port, body, contentType);
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(res.body).toMatch(message);
  });

  it("accepts a body of exactly 6 MiB and answers 413 one byte above", async () => {
    const line = "30,1000,red\n";
    const exact = line.repeat((6 * MiB) / line.length);
    expect(exact.length).toBe(6 * MiB);
    const ok = await invoke(server.port, exact, "text/csv");
    expect(ok.status).toBe(200);
    expect(ok.body.split("\n").length - 1).toBe((6 * MiB) / line.length);
    const over = await invoke(server.port, exact + "\n", "text/csv");
    expect(over.status).toBe(413);
    expect(over.body).toMatch(/exceeds 6 MB/);
  }, 30_000);

  it("answers 413 to a chunked body that grows past the limit", async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port: server.port, method: "POST", path: "/invocations", headers: { "Content-Type": "text/csv" }, agent: false },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      const chunk = "30,1000,red\n".repeat(1 << 16);
      for (let i = 0; i < 9; i++) req.write(chunk);
      req.end();
    });
    expect(res).toBe(413);
  });

  it("refuses an oversized body announced with Expect: 100-continue before it is sent", async () => {
    const res = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = http.request({
        host: "127.0.0.1",
        port: server.port,
        method: "POST",
        path: "/invocations",
        headers: { "Content-Type": "text/csv", "Content-Length": 50 * MiB, Expect: "100-continue" },
        agent: false,
      });
      req.on("continue", () => (continued = true));
      req.on("response", (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, continued });
        req.destroy();
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(res).toEqual({ status: 413, continued: false });
  });

  it.each([
    ["GET", "/invocations", 405, "POST"],
    ["POST", "/ping", 405, "GET, HEAD"],
    ["DELETE", "/execution-parameters", 405, "GET, HEAD"],
    ["GET", "/predict", 404, undefined],
    ["GET", "/", 404, undefined],
  ])("answers %s %s with %i", async (method, path, status, allow) => {
    const res = await request(server.port, { method, path, body: method === "POST" ? "x" : undefined });
    expect(res.status).toBe(status);
    expect(res.headers.allow).toBe(allow);
  });

  it("answers GET /execution-parameters with the real-time defaults", async () => {
    const res = await request(server.port, { path: "/execution-parameters" });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual({ MaxConcurrentTransforms: 1, BatchStrategy: "MULTI_RECORD", MaxPayloadInMB: 6 });
  });

  it("answers a bug with a bare 500, logs the details, and keeps serving", async () => {
    const res = await invoke(server.port, `${BUG_AGE},1,red\n`, "text/csv");
    expect(res.status).toBe(500);
    expect(res.body).toBe("internal server error\n");
    expect((await invoke(server.port, "30,1000,red\n", "text/csv")).status).toBe(200);
    const logged = server.logs().find((l) => l.status === 500);
    expect(logged).toMatchObject({ level: "error", path: "/invocations" });
    expect(JSON.stringify(logged)).toContain("secret internals");
  });

  it("keeps a connection usable after a bad request on it", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string): Promise<{ status: number; socket: net.Socket }> =>
      new Promise((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port: server.port, method: "POST", path: "/invocations", headers: { "Content-Type": "text/csv" }, agent },
          (r) => {
            r.resume();
            r.on("end", () => resolve({ status: r.statusCode ?? 0, socket: req.socket as net.Socket }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const bad = await send("nope\n");
    const good = await send("30,1000,red\n");
    agent.destroy();
    expect([bad.status, good.status]).toEqual([400, 200]);
    expect(good.socket).toBe(bad.socket);
  });

  it("writes a structured access log line per invocation, and none per ping at info level", async () => {
    await request(server.port, { path: "/ping" });
    await invoke(server.port, "30,1000,red\n31,1000,red\n", "text/csv");
    const requests = server.logs().filter((l) => l.msg === "request");
    expect(requests.some((l) => l.path === "/ping")).toBe(false);
    expect(requests.findLast((l) => l.rows === 2)).toMatchObject({ level: "info", method: "POST", path: "/invocations", status: 200, bytesIn: 24 });
    for (const l of requests) expect(typeof l.ms).toBe("number");
  });
});

describe("the app with batch transform's settings (resolveServeConfig reads them from the environment: server-config.test.ts)", () => {
  let server: MountedApp;
  beforeAll(async () => {
    server = await mountApp({
      predictor: fakePredictor(),
      maxPayloadBytes: MiB,
      executionParameters: { MaxConcurrentTransforms: 4, BatchStrategy: "MULTI_RECORD", MaxPayloadInMB: 1 },
      logLevel: "debug",
    });
  });
  afterAll(() => server.close());

  it("answers GET /execution-parameters from the job's settings, in the container spelling", async () => {
    const res = await request(server.port, { path: "/execution-parameters" });
    expect(JSON.parse(res.body)).toEqual({ MaxConcurrentTransforms: 4, BatchStrategy: "MULTI_RECORD", MaxPayloadInMB: 1 });
  });

  it("scores a line-split mini-batch into exactly as many output lines", async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i % 90},${(i * 37) % 5000},${["red", "green", "blue"][i % 3]}`);
    const res = await invoke(server.port, rows.join("\n") + "\n", "text/csv", "text/csv");
    expect(res.status).toBe(200);
    const out = res.body.split("\n");
    expect(out.pop()).toBe("");
    expect(out).toHaveLength(5000);
    expect(out[4999]).toBe(expectedCsv(4999 % 90, (4999 * 37) % 5000, "blue"));
  });

  it("scores a JSON-lines mini-batch line for line", async () => {
    const res = await invoke(server.port, '[1,2,"red"]\n[3,4,"blue"]\n[5,6,"green"]\n', "application/jsonlines", "application/jsonlines");
    expect(res.body.trimEnd().split("\n")).toHaveLength(3);
  });

  it("applies the job's MaxPayloadInMB as the body limit", async () => {
    const ok = await invoke(server.port, "1".repeat(MiB - 8) + ",1,red\n", "text/csv");
    expect(ok.status).toBe(200);
    const over = await invoke(server.port, "1".repeat(MiB) + ",1,red\n", "text/csv");
    expect(over.status).toBe(413);
    expect(over.body).toMatch(/exceeds 1 MB/);
  });

  it("logs pings at debug level", async () => {
    await request(server.port, { path: "/ping" });
    expect(server.logs().find((l) => l.path === "/ping")).toMatchObject({ level: "debug", status: 200 });
  });
});

describe("the served model's identity", () => {
  it("is model-sha256=<hex of model.json's bytes>, from the file as stored, and goes out on every response", async () => {
    const dir = tmpDir();
    writeTestModel(dir);
    const bytes = fs.readFileSync(path.join(dir, MODEL_FILE));
    const { predictor, identity } = loadServedModel(dir);
    // The same value the deploy tools compute at registration from the artifact's model.json.
    expect(identity).toBe(`model-sha256=${createHash("sha256").update(bytes).digest("hex")}`);
    expect(identity).toBe(modelIdentity(bytes));
    expect(modelSha256(Buffer.from(bytes.toString("utf8") + " "))).not.toBe(modelSha256(bytes));

    const server = await mountApp({ predictor, modelIdentity: identity });
    try {
      const header = MODEL_IDENTITY_HEADER.toLowerCase();
      const ok = await invoke(server.port, testRows(2).join("\n"), "text/csv");
      const bad = await invoke(server.port, "nope\n", "text/csv");
      const ping = await request(server.port, { path: "/ping" });
      expect([ok.status, bad.status, ping.status]).toEqual([200, 400, 200]);
      for (const res of [ok, bad, ping]) expect(res.headers[header]).toBe(identity);
    } finally {
      await server.close();
    }
  });

  it("is left out when the app is given none", async () => {
    const server = await mountApp({ predictor: fakePredictor() });
    try {
      expect((await invoke(server.port, "30,1000,red\n", "text/csv")).headers[MODEL_IDENTITY_HEADER.toLowerCase()]).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it.each([
    ["longer than SageMaker's 1024 characters", "x".repeat(CUSTOM_ATTRIBUTES_MAX_LENGTH + 1)],
    ["not US-ASCII", "model=ü"],
    ["with a line break", "a\r\nSet-Cookie: x"],
  ])("refuses an identity %s", (_, identity) => {
    expect(() => createApp({ predictor: fakePredictor(), modelIdentity: identity })).toThrow(/at most 1024 visible US-ASCII characters/);
  });
});
