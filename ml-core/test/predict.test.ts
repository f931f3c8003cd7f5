/**
 * `ml-core predict`: a file in, a file out, through the same scoring path as /invocations.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPredictor } from "../src/model/load";
import { predictFile } from "../src/batch/predict-file";
import { formatSummary } from "../src/runtime/predict";
import { Scorer } from "../src/codec/scoring";
import type { Format } from "../src/codec/media-types";
import { BIN, distModule, ensureBuilt } from "./server-helpers";
import { testRows, writeTestModel } from "./server-model";

let dir: string;
let modelDir: string;
const rows = testRows(3000);

/** What POST /invocations answers for the same body. */
function served(body: string, input: Format, output: Format): string {
  return [...new Scorer(loadPredictor(modelDir)).score(Buffer.from(body), input, output)].join("");
}

function file(name: string, text?: string): string {
  const p = path.join(dir, name);
  if (text !== undefined) fs.writeFileSync(p, text);
  return p;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ml-core-predict-"));
  modelDir = path.join(dir, "model");
  writeTestModel(modelDir, { trees: 20, depth: 4 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("predictFile", () => {
  it("scores a CSV file to exactly the bytes the server answers, streaming it in small chunks", async () => {
    const body = rows.join("\n") + "\n";
    const out = file("out.csv");
    const summary = await predictFile({ modelDir, input: file("in.csv", body), output: out, chunkBytes: 1000 });
    expect(fs.readFileSync(out, "utf8")).toBe(served(body, "csv", "csv"));
    expect(summary).toMatchObject({ rows: 3000, inputFormat: "csv", outputFormat: "csv", header: false });
  });

  it("keeps a quoted record that spans chunks whole", async () => {
    const body = rows
      .slice(0, 50)
      .map((r, i) => (i % 7 === 0 ? r.replace(/,(\w+)$/, ',"$1"') : r))
      .join("\r\n");
    const out = file("quoted.csv");
    await predictFile({ modelDir, input: file("quoted-in.csv", body), output: out, chunkBytes: 64 });
    expect(fs.readFileSync(out, "utf8")).toBe(served(rows.slice(0, 50).join("\n"), "csv", "csv"));
  });

  it("reads again, twice as much, when a chunk holds no whole record, and scores a last record without a line feed", async () => {
    const body = rows
      .slice(0, 40)
      .map((r, i) => (i % 5 === 0 ? r.replace(/,(\w+)$/, ',"$1"') : r))
      .join("\n");
    const out = file("tiny-chunks.csv");
    // Every record is longer than 8 bytes.
    await predictFile({ modelDir, input: file("tiny-chunks-in.csv", body), output: out, chunkBytes: 8 });
    expect(fs.readFileSync(out, "utf8")).toBe(served(rows.slice(0, 40).join("\n"), "csv", "csv"));
  });

  it("matches columns by a header line, ignores extra columns, and writes a header", async () => {
    const reordered = rows.slice(0, 20).map((r) => {
      const [x0, x1, x2, x3, color] = r.split(",");
      return [color, "label-value", x3, x2, x1, x0].join(",");
    });
    const out = file("header.csv");
    const summary = await predictFile({ modelDir, input: file("header-in.csv", ["color,y,x3,x2,x1,x0", ...reordered].join("\n")), output: out });
    expect(summary.header).toBe(true);
    expect(fs.readFileSync(out, "utf8")).toBe("predicted_label,probability_no,probability_yes\n" + served(rows.slice(0, 20).join("\n"), "csv", "csv"));
  });

  it.each([
    ["json", '{"instances": [[1, 2, 3, 4, "red"], {"x0": 5, "color": "blue"}]}', ".json", "json"],
    ["jsonl", '[1, 2, 3, 4, "red"]\n{"x0": 5, "color": "blue"}\n', ".jsonl", "jsonlines"],
  ] as const)("scores a .%s file in its own format", async (_ext, body, suffix, format) => {
    const out = file(`out${suffix}`);
    await predictFile({ modelDir, input: file(`in${suffix}`, body), output: out });
    const expected = served(body, format, format);
    expect(fs.readFileSync(out, "utf8")).toBe(format === "json" ? expected + "\n" : expected);
  });

  it("writes the format the output's extension or --accept names", async () => {
    const body = rows.slice(0, 5).join("\n");
    const input = file("five.csv", body);
    await predictFile({ modelDir, input, output: file("five.jsonl") });
    expect(fs.readFileSync(file("five.jsonl"), "utf8")).toBe(served(body, "csv", "jsonlines"));
    await predictFile({ modelDir, input, output: file("five.out"), accept: "application/json" });
    expect(JSON.parse(fs.readFileSync(file("five.out"), "utf8"))).toEqual(JSON.parse(served(body, "csv", "json")));
  });

  it("fails naming the file, row and column, and leaves no output behind", async () => {
    const body = [...rows.slice(0, 4), "1,2,three,4,red", ...rows.slice(4, 10)].join("\n");
    const out = file("bad-out.csv");
    await expect(predictFile({ modelDir, input: file("bad.csv", body), output: out })).rejects.toThrow(
      /bad\.csv: row 5, column 3 \(x2\): feature "x2" is numeric but got "three"/,
    );
    expect(fs.readdirSync(dir).filter((f) => f.includes("bad-out"))).toEqual([]);
  });

  it.each([
    ["a header lacking a feature", "x0,x1,x2,color\n1,2,3,red\n", /row 1 looks like a header but lacks feature x3/],
    ["an empty file", "", /no rows to score/],
    ["a wrong column count", "1,2,3\n", /row 1: expected 5 features \(x0, x1, x2, x3, color\), found 3 columns/],
  ])("rejects %s", async (_what, body, message) => {
    await expect(predictFile({ modelDir, input: file("reject.csv", body), output: file("reject-out.csv") })).rejects.toThrow(message);
  });
});

describe("the predict command", () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it("writes the output file and prints a JSON summary with --json", () => {
    const input = file("cli-in.csv", rows.join("\n"));
    const output = file("cli-out.csv");
    const run = spawnSync(process.execPath, [BIN, "predict", "--model-dir", modelDir, "--input", input, "--output", output, "--json"], { encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: 3000, input, output, inputFormat: "csv", outputFormat: "csv" });
    expect(fs.readFileSync(output, "utf8")).toBe(served(rows.join("\n"), "csv", "csv"));
  });

  it("streams stdin to stdout with the summary on stderr", () => {
    const run = spawnSync(process.execPath, [BIN, "predict", "--model-dir", modelDir, "--input", "-", "--output", "-", "--content-type", "text/csv"], {
      input: rows.slice(0, 3).join("\n"),
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(served(rows.slice(0, 3).join("\n"), "csv", "csv"));
    expect(run.stderr).toMatch(/^scored 3 rows in \d+\.\d\d s \([\d,]+ rows\/s\): - → stdout\n$/);
  });

  it("scores a file of many chunks on several threads, in order, numbering rows across chunks", () => {
    // The compiled module, as the CLI runs it: worker threads load dist/batch/threads.js.
    const script = `
      const { predictFile } = require(${distModule("batch/predict-file.js")});
      const [modelDir, input, output] = process.argv.slice(1);
      predictFile({ modelDir, input, output, chunkBytes: 4096, threads: 3 }).then(
        (s) => console.log(JSON.stringify(s)),
        (e) => { console.log(JSON.stringify({ error: e.message })); process.exitCode = 1; });`;
    const body = rows.join("\n") + "\n";
    const ok = spawnSync(process.execPath, ["-e", script, modelDir, file("threads-in.csv", body), file("threads-out.csv")], { encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(JSON.parse(ok.stdout)).toMatchObject({ rows: 3000 });
    expect(fs.readFileSync(file("threads-out.csv"), "utf8")).toBe(served(body, "csv", "csv"));

    const bad = ["x0,x1,x2,x3,color", ...rows.slice(0, 2500), "1,2,3,4,red,extra", ...rows.slice(2500)].join("\n");
    const failed = spawnSync(process.execPath, ["-e", script, modelDir, file("threads-bad.csv", bad), file("threads-bad-out.csv")], { encoding: "utf8" });
    expect(failed.status).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({ error: `${file("threads-bad.csv")}: row 2502: expected 5 features (x0, x1, x2, x3, color), found 6 columns` });
    expect(fs.existsSync(file("threads-bad-out.csv"))).toBe(false);
  });

  it("exits 1 with the reason on bad input", () => {
    const run = spawnSync(process.execPath, [BIN, "predict", "--model-dir", modelDir, "--input", file("cli-bad.csv", "1,2\n")], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^ml-core: error: .*cli-bad\.csv: row 1: expected 5 features \(x0, x1, x2, x3, color\), found 2 columns\n$/);
  });
});

describe("the predict summary", () => {
  it("groups thousands with commas, as en-US does", () => {
    const summary = {
      rows: 1234567,
      seconds: 1.5,
      rowsPerSecond: 823044.7,
      input: "in.csv",
      output: "-",
      inputFormat: "csv",
      outputFormat: "csv",
      header: true,
    } as const;
    expect(formatSummary(summary)).toBe("scored 1,234,567 rows in 1.50 s (823,045 rows/s): in.csv → stdout");
    expect(formatSummary({ ...summary, rows: 999, rowsPerSecond: 1000 })).toBe("scored 999 rows in 1.50 s (1,000 rows/s): in.csv → stdout");
  });
});
