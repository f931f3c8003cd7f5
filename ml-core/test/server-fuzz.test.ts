/**
 * Property test: whatever arrives — random bytes, mangled CSV and JSON, odd headers, broken HTTP —
 * the server answers with a client error or a prediction, never a 500, never dies, and /ping keeps
 * answering. Seeded, so a failure replays; bounded in count and time.
 */
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, invoke, killAll, request, rng, startServer, type RunningServer } from "./server-helpers";

const SEED = 20240607;
const REQUESTS = 2000;
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
const ACCEPTS = [undefined, "*/*", "text/csv", "application/json", "application/jsonlines", "text/*;q=0.2, application/*", "application/xml", "q=1", ",,,", "*/*;q=abc", "text/csv;q=0"];
const TRICKY = ['"', ",", "\r", "\n", "\0", "\uffff", "\ud800", " ", "-", "+", ".", "e", "E", "[", "]", "{", "}", ":", "null", "NaN", "1e400", "-0", "0x1F", "Infinity", "\\", "red"];

const VALID_CSV = "30,1000,red\n40,,blue\n-5.5,2e3,green\n";
const VALID_JSON = '{"instances": [[30, 1000, "red"], {"age": 40, "color": "blue"}, {"features": [1, 2, "green"]}]}';
const VALID_JSONL = '[30,1000,"red"]\n{"age":40}\n{"features":[1,2,"green"]}\n';

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

function randomBody(rand: () => number): string | Buffer {
  const kind = rand();
  if (kind < 0.2) return randomBytes(rand, Math.floor(rand() * 2000));
  if (kind < 0.45) return mutate(VALID_CSV, rand);
  if (kind < 0.7) return mutate(VALID_JSON, rand);
  if (kind < 0.85) return mutate(VALID_JSONL, rand);
  if (kind < 0.9) return "[".repeat(1 + Math.floor(rand() * 100_000));
  if (kind < 0.95) return '{"instances": ' + "[".repeat(Math.floor(rand() * 1000)) + "30" + "]".repeat(Math.floor(rand() * 1000)) + "}";
  return Array.from({ length: 1 + Math.floor(rand() * 200) }, () => TRICKY[Math.floor(rand() * TRICKY.length)]).join(",");
}

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => killAll());

describe("fuzzing /invocations", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  }, 30_000);
  afterAll(async () => {
    expect((await server.stop()).code).toBe(0);
  });

  it(`answers ${REQUESTS} malformed requests with client errors only, and keeps answering /ping`, async () => {
    const rand = rng(SEED);
    const cases = Array.from({ length: REQUESTS }, () => ({
      body: randomBody(rand),
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
    expect((await invoke(server.port, VALID_CSV, "text/csv")).body.split("\n")).toHaveLength(4);
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
    expect(server.proc.exitCode).toBeNull();
  }, 60_000);
});
