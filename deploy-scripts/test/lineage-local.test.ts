import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_CHANNEL } from "@ml-platform/ml-core";
import { main } from "../src/index";
import { materializeChannels, snapshotLocal } from "../src/data/local";

const ROOT = path.resolve(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "flight-delays", "data");
const ML_CORE = require.resolve("@ml-platform/ml-core/bin/ml-core.js");

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    streams: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    repoRoot: ROOT,
    gitCommit: async () => "0123abc",
  });
  return { code, stdout, stderr };
}

/** The example data, cut to a few thousand rows. */
function smallData(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, rows] of [
    ["train", 3000],
    ["validation", 600],
  ] as const) {
    const lines = fs.readFileSync(path.join(EXAMPLE, `${name}.csv`), "utf8").split("\n");
    fs.writeFileSync(path.join(dir, `${name}.csv`), lines.slice(0, rows + 1).join("\n") + "\n");
  }
  return dir;
}

describe("a changed byte", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ml-manifest-"));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("changes the manifest id, and ml-core train fails naming the channel file, the expected and the actual SHA-256", async () => {
    const data = smallData(path.join(tmp, "data"));
    const store = path.join(tmp, "store");
    const before = await snapshotLocal(data, store);
    const base = path.join(tmp, "opt", "ml");
    fs.mkdirSync(path.join(base, "input", "config"), { recursive: true });
    fs.writeFileSync(path.join(base, "input", "config", "hyperparameters.json"), JSON.stringify({ label: "delayed", num_round: "5" }));
    materializeChannels(store, before.id, path.join(base, "input", "data"), MANIFEST_CHANNEL);

    // One byte of the training file in the channel (a replaced object), after the snapshot.
    const trainObject = before.manifest.objects.find((o) => o.channel === "train")!;
    const channelFile = path.join(base, "input", "data", "train", trainObject.sha256);
    const bytes = fs.readFileSync(channelFile);
    bytes[bytes.length - 2] = bytes[bytes.length - 2] === 0x30 ? 0x31 : 0x30;
    fs.writeFileSync(channelFile, bytes);
    const changed = smallData(path.join(tmp, "changed"));
    fs.writeFileSync(path.join(changed, "train.csv"), bytes);
    expect((await snapshotLocal(changed, store)).id).not.toBe(before.id);

    const r = spawnSync(process.execPath, [ML_CORE, "train"], { env: { ...process.env, SAGEMAKER_BASE_DIR: base }, encoding: "utf8" });
    expect(r.status).toBe(1);
    const failure = fs.readFileSync(path.join(base, "output", "failure"), "utf8");
    const actual = createHash("sha256").update(bytes).digest("hex");
    expect(failure).toContain(
      `train/${trainObject.sha256} differs from dataset manifest ${before.id}: expected SHA-256 ${trainObject.sha256} (${trainObject.uri}), actual ${actual}`,
    );
    expect(fs.existsSync(path.join(base, "model", "model.json"))).toBe(false);
  }, 60_000);
});

describe("npm start twice, one data file changed in between; lineage --stack local", () => {
  let tmp: string;
  let work: string;
  const ids: string[] = [];
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ml-lineage-"));
    work = path.join(tmp, "work");
    const data = smallData(path.join(tmp, "data"));
    for (let i = 0; i < 2; i++) {
      if (i === 1) fs.appendFileSync(path.join(data, "validation.csv"), fs.readFileSync(path.join(data, "validation.csv"), "utf8").split("\n")[1] + "\n");
      const r = await run(["local", "--data", data, "--work-dir", work, "--json"]);
      if (r.code !== 0) throw new Error(r.stderr);
      ids.push(JSON.parse(r.stdout).manifestId);
    }
  }, 120_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("registers the second version with a different manifest id", () => {
    expect(ids[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it("prints the chain of both versions: version → run → manifest → objects, verified", async () => {
    const r = await run(["lineage", "--stack", "local", "--work-dir", work, "--verify", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const chains = JSON.parse(r.stdout).chains as Array<{ version: number; links: Array<{ kind: string; name: string }>; problems: string[] }>;
    expect(chains.map((c) => c.version)).toEqual([1, 2]);
    for (const [i, c] of chains.entries()) {
      expect(c.links.map((l) => l.kind)).toEqual(["model-package", "training-job", "dataset-manifest", "object", "object"]);
      expect(c.links[2]!.name).toBe(ids[i]);
      expect(c.problems).toEqual([]);
    }
    const text = await run(["lineage", "--stack", "local", "--work-dir", work]);
    for (const id of ids) expect(text.stdout).toContain(`→ dataset manifest ${id}`);
  });

  it("--verify fails naming a content-addressed copy that no longer holds its bytes", async () => {
    const copy = path.join(work, "datasets", "sha256", fs.readdirSync(path.join(work, "datasets", "sha256"))[0]!);
    fs.appendFileSync(copy, "x");
    const r = await run(["lineage", "--stack", "local", "--work-dir", work, "--verify"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${copy} (file://`);
    expect(r.stderr).toContain("no longer has SHA-256");
  });
});
