#!/usr/bin/env node
// Serving benchmark: single-row and 100-row CSV requests at concurrency 1 and 32, with autocannon,
// against (a) `ml-core serve`, (b) a bare node:http server answering a fixed body (the floor for
// this machine) and (c) Flask under gunicorn serving the same trees through scikit-learn, the way
// SageMaker's scikit-learn container does. One table: requests/s, p50/p99 and ratios.
//
//   npx tsc -b && node bench/serve.mjs [--duration 10] [--rounds 5] [--workers 1] [--json]
//
// Every server gets the same number of worker processes (default 1: autocannon itself needs the
// other core of a 2-core machine). Access logs of ml-core stay on (info level) as in production.
// All servers run side by side and each scenario is measured in rounds that alternate between them
// (duration/rounds seconds each), so a change in the machine's load affects all of them alike.
// Latency percentiles come from every response's own time, not autocannon's whole-ms histogram.
import autocannon from "autocannon";
import { spawn } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { BENCH, BIN, GUNICORN, prepareModel, rows } from "./serve-setup.mjs";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const DURATION = Number(flag("duration", "10"));
const WORKERS = Number(flag("workers", "1"));
const ROUNDS = Number(flag("rounds", "5"));
const JSON_OUT = args.includes("--json");

const log = (msg) => process.stderr.write(msg + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function post(port, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/invocations", headers: { "Content-Type": "text/csv" } }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function waitFor(port, proc, name) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      http
        .get({ host: "127.0.0.1", port, path: "/ping" }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        })
        .on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${name} did not answer /ping`);
}

async function start(server, port, model) {
  let proc;
  if (server === "ml-core") {
    proc = spawn(process.execPath, [BIN, "serve", "--model-dir", model.modelDir, "--host", "127.0.0.1", "--port", String(port), "--workers", String(WORKERS)], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  } else if (server === "bare") {
    proc = spawn(process.execPath, [path.join(BENCH, "serve-bare.mjs"), String(port), String(WORKERS)], { stdio: "ignore" });
  } else {
    // gthread with one thread per worker: one request at a time per worker, like the sync worker,
    // but with keep-alive (the sync worker closes every connection, which load generators, and
    // SageMaker's front end with its nginx, do not do). OMP_NUM_THREADS=1 favours scikit-learn: its
    // OpenMP threads otherwise spin up and wait on every small request.
    proc = spawn(
      GUNICORN,
      [
        "--chdir",
        BENCH,
        "--workers",
        String(WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        "1",
        "--keep-alive",
        "65",
        "--bind",
        `127.0.0.1:${port}`,
        "--log-level",
        "warning",
        "serve_sklearn:app",
      ],
      {
        env: { ...process.env, MODEL_PATH: model.sklearnModel, OMP_NUM_THREADS: "1" },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
  }
  await waitFor(port, proc, server);
  return proc;
}

function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once("exit", resolve);
    proc.kill("SIGTERM");
  });
}

/**
 * One autocannon run; resolves with its result and every response's latency (ms), recorded into a
 * preallocated array so that the load generator itself allocates nothing per response (its GC
 * pauses would show up as server latency).
 */
function load(port, body, connections, duration) {
  return new Promise((resolve, reject) => {
    const recorded = new Float64Array(Math.ceil(duration * 100_000));
    let n = 0;
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}/invocations`, method: "POST", headers: { "content-type": "text/csv" }, body, connections, duration },
      (err, result) => (err ? reject(err) : resolve({ result, latencies: recorded.subarray(0, n) })),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      if (n < recorded.length) recorded[n++] = responseTime;
    });
  });
}

function percentile(sorted, q) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const SERVERS = [
  { id: "bare", label: "bare node:http (fixed body)" },
  { id: "ml-core", label: "ml-core serve" },
  { id: "flask", label: "Flask/gunicorn + scikit-learn" },
];

async function main() {
  const model = prepareModel();
  const sample = rows(100, 99);
  const scenarios = [
    { name: "1 row", body: sample[0] + "\n", connections: 1 },
    { name: "1 row", body: sample[0] + "\n", connections: 32 },
    { name: "100 rows", body: sample.join("\n") + "\n", connections: 1 },
    { name: "100 rows", body: sample.join("\n") + "\n", connections: 32 },
  ];
  const servers = SERVERS.filter((s) => s.id !== "flask" || model.python === undefined);
  if (model.python !== undefined) log(`scikit-learn server skipped: ${model.python}`);
  log(`model: ${model.source}; ${WORKERS} worker(s) per server; ${DURATION} s per run`);

  const results = {};
  const running = [];
  try {
    for (const server of servers) {
      const port = await freePort();
      running.push({ server, port, proc: await start(server.id, port, model) });
    }
    for (const { server, port } of running) {
      for (const s of scenarios) {
        const check = await post(port, s.body);
        const lines = check.text.trimEnd().split("\n").length;
        if (check.status !== 200 || (server.id !== "bare" && lines !== s.body.trimEnd().split("\n").length)) {
          throw new Error(`${server.label} answered ${check.status} with ${lines} lines: ${check.text.slice(0, 200)}`);
        }
      }
      log(`${server.label}: warming up`);
      await load(port, scenarios[1].body, 32, 2);
    }
    for (const s of scenarios) {
      log(`${s.name}, concurrency ${s.connections}: ${ROUNDS} rounds of ${DURATION / ROUNDS} s per server`);
      const acc = new Map(running.map(({ server }) => [server.id, { requests: 0, seconds: 0, errors: 0, latencies: [] }]));
      // latencies: one Float64Array per round, concatenated below.
      for (let round = 0; round < ROUNDS; round++) {
        for (const { server, port } of running) {
          const { result, latencies } = await load(port, s.body, s.connections, DURATION / ROUNDS);
          const a = acc.get(server.id);
          a.requests += result.requests.total;
          a.seconds += result.duration;
          a.errors += result.errors + result.non2xx + result.timeouts;
          a.latencies.push(latencies.slice());
        }
      }
      for (const [id, a] of acc) {
        const all = new Float64Array(a.latencies.reduce((k, l) => k + l.length, 0));
        let at = 0;
        for (const l of a.latencies) {
          all.set(l, at);
          at += l.length;
        }
        const sorted = all.sort();
        results[`${id}|${s.name}|${s.connections}`] = {
          rps: a.requests / a.seconds,
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          errors: a.errors,
        };
      }
    }
  } finally {
    for (const { proc } of running) await stop(proc);
  }

  const table = [];
  for (const s of scenarios) {
    const bare = results[`bare|${s.name}|${s.connections}`];
    const flask = results[`flask|${s.name}|${s.connections}`];
    for (const server of servers) {
      const r = results[`${server.id}|${s.name}|${s.connections}`];
      table.push({
        scenario: `${s.name}, c=${s.connections}`,
        server: server.label,
        rps: Math.round(r.rps),
        p50: Math.round(r.p50 * 100) / 100,
        p99: Math.round(r.p99 * 100) / 100,
        vsBare: r.rps / bare.rps,
        vsFlask: flask && flask.rps > 0 ? r.rps / flask.rps : undefined,
        errors: r.errors,
      });
    }
  }
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ model: model.source, workers: WORKERS, duration: DURATION, results: table }, null, 2) + "\n");
    return;
  }
  const pad = (v, n, left = false) => (left ? String(v).padEnd(n) : String(v).padStart(n));
  const lines = [
    `${pad("scenario", 16, true)} ${pad("server", 31, true)} ${pad("req/s", 8)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ${pad("vs bare", 8)} ${pad("vs flask", 9)} ${pad("errors", 6)}`,
  ];
  let last = "";
  for (const r of table) {
    lines.push(
      `${pad(r.scenario === last ? "" : r.scenario, 16, true)} ${pad(r.server, 31, true)} ${pad(r.rps, 8)} ${pad(r.p50, 7)} ${pad(r.p99, 7)} ${pad(`${(r.vsBare * 100).toFixed(0)}%`, 8)} ${pad(r.vsFlask === undefined ? "-" : `${r.vsFlask.toFixed(1)}x`, 9)} ${pad(r.errors, 6)}`,
    );
    last = r.scenario;
  }
  const target = table.find((r) => r.scenario === "1 row, c=32" && r.server === "ml-core serve");
  lines.push("");
  lines.push(
    `targets (1 row, c=32): ${(target.vsBare * 100).toFixed(0)}% of bare (>= 70%), ${target.vsFlask === undefined ? "n/a" : target.vsFlask.toFixed(1) + "x"} Flask (>= 5x), p99 ${target.p99} ms (< 5 ms)`,
  );
  process.stdout.write(
    `model: ${model.source}; ${WORKERS} worker(s) per server; ${DURATION} s per scenario and server in ${ROUNDS} alternating rounds; node ${process.version}\n` +
      lines.join("\n") +
      "\n",
  );
}

main().catch((e) => {
  log(`error: ${e.message}`);
  process.exitCode = 1;
});
