/**
 * The image under an arbitrary non-root UID, as Kubernetes runs it (the UID comes from the pod
 * spec): `train` and `serve` as uid/gid 65534 on an /opt/ml tree laid out as that UID finds it
 * (data and config readable, model/output/checkpoints writable), the program laid out as the
 * image has it (readable by all, writable by none). The processes may write under the /opt/ml tree
 * and /tmp only: their HOME and working directory are unwritable and must stay empty, and the /opt/ml
 * tree gains files in the writable directories alone.
 */
import { spawn, spawnSync, type SpawnOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL_FILE, MODEL_IDENTITY_HEADER, modelIdentity } from "../src/index";
import { ensureBuilt, freePort, invoke, ML_CORE, REPO, request, sleep } from "./server-helpers";
import { testRows } from "./server-model";

const UID = 65534;
const GID = 65534;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Every file and directory under `dir`, relative to it. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

function mkdir(dir: string, owner: "root" | "job", mode: number): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, mode);
  if (owner === "job") fs.chownSync(dir, UID, GID);
  return dir;
}

// CI runs as root, so this runs there; as non-root a process cannot drop to another UID.
describe.skipIf(!isRoot)(
  `\`train\` and \`serve\` as an arbitrary non-root UID (65534)${isRoot ? "" : " — skipped: dropping to another UID needs root"}`,
  () => {
    let top: string;
    let base: string;
    let program: string;
    let home: string;
    let cwd: string;
    let opts: SpawnOptions;
    let bin: string;

    beforeAll(() => {
      ensureBuilt();
      top = fs.mkdtempSync(path.join(os.tmpdir(), "ml-core-uid-"));
      fs.chmodSync(top, 0o755);
      // The program as the image lays it out: root-owned, readable and runnable by everyone.
      program = path.join(top, "opt-program");
      fs.cpSync(path.join(ML_CORE, "dist"), path.join(program, "ml-core", "dist"), {
        recursive: true,
        filter: (f) => !f.endsWith(".map") && !f.endsWith(".d.ts"),
      });
      fs.cpSync(path.join(ML_CORE, "bin"), path.join(program, "ml-core", "bin"), { recursive: true });
      fs.cpSync(path.join(ML_CORE, "package.json"), path.join(program, "ml-core", "package.json"));
      fs.cpSync(path.join(REPO, "node_modules", "commander"), path.join(program, "node_modules", "commander"), { recursive: true, dereference: true });
      spawnSync("chmod", ["-R", "a+rX,go-w", program]);
      bin = path.join(program, "ml-core", "bin", "ml-core.js");

      // /opt/ml as the UID finds it: inputs readable, outputs writable.
      base = mkdir(path.join(top, "opt-ml"), "root", 0o755);
      mkdir(path.join(base, "input", "data", "train"), "root", 0o755);
      mkdir(path.join(base, "input", "config"), "root", 0o755);
      const training = testRows(600, 4, 21).map((r) => {
        const [x0, , , , color] = r.split(",");
        return `${r},${Number(x0 || 0) > 0 || color === "red" ? "yes" : "no"}`;
      });
      fs.writeFileSync(path.join(base, "input", "data", "train", "train.csv"), ["x0,x1,x2,x3,color,y", ...training].join("\n") + "\n", { mode: 0o644 });
      fs.writeFileSync(path.join(base, "input", "config", "hyperparameters.json"), JSON.stringify({ label: "y", num_round: "10" }), { mode: 0o644 });
      for (const d of ["model", "output", "checkpoints"]) mkdir(path.join(base, d), "job", 0o755);

      // HOME and the working directory exist but the UID cannot write them.
      home = mkdir(path.join(top, "home"), "root", 0o755);
      cwd = mkdir(path.join(top, "cwd"), "root", 0o755);
      opts = {
        uid: UID,
        gid: GID,
        cwd,
        env: { PATH: process.env.PATH ?? "", HOME: home, SAGEMAKER_BASE_DIR: base, SAGEMAKER_MODEL_SERVER_WORKERS: "1" },
      };
    }, 120_000);

    afterAll(() => {
      if (top !== undefined) fs.rmSync(top, { recursive: true, force: true });
    });

    it("trains, writing only the model and output directories", () => {
      const before = tree(base);
      const run = spawnSync(process.execPath, [bin, "train"], { ...opts, encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      expect(fs.statSync(path.join(base, "model", MODEL_FILE)).uid).toBe(UID);
      const added = tree(base).filter((f) => !before.includes(f));
      expect(added.sort()).toEqual(["model/constraints.json", "model/metrics.json", "model/model.json", "model/statistics.json"]);
      expect(tree(home)).toEqual([]);
      expect(tree(cwd)).toEqual([]);
    }, 60_000);

    it("writes its failure reason to output/failure", () => {
      const bad = path.join(base, "input", "config", "hyperparameters.json");
      const good = fs.readFileSync(bad);
      fs.writeFileSync(bad, JSON.stringify({ label: "y", num_round: "many" }));
      try {
        const run = spawnSync(process.execPath, [bin, "train"], { ...opts, encoding: "utf8" });
        expect(run.status).toBe(1);
        expect(fs.readFileSync(path.join(base, "output", "failure"), "utf8")).toMatch(/num_round/);
      } finally {
        fs.writeFileSync(bad, good);
        fs.rmSync(path.join(base, "output", "failure"), { force: true });
      }
      expect(tree(home)).toEqual([]);
      expect(tree(cwd)).toEqual([]);
    }, 60_000);

    it("serves the model it trained and drains on SIGTERM, writing nothing", async () => {
      const before = tree(base);
      const port = await freePort();
      const proc = spawn(process.execPath, [bin, "serve", "--host", "127.0.0.1"], {
        ...opts,
        env: { ...opts.env, SAGEMAKER_BIND_TO_PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      proc.stdout?.on("data", (c: Buffer) => (out += c.toString()));
      proc.stderr?.on("data", (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
      try {
        let ready = false;
        for (let i = 0; i < 200 && !ready && proc.exitCode === null; i++) {
          ready = await request(port, { path: "/ping", timeoutMs: 1000 }).then(
            (r) => r.status === 200,
            () => false,
          );
          if (!ready) await sleep(50);
        }
        expect(ready, out).toBe(true);
        const res = await invoke(port, "5,1,2,3,blue\n-5,1,2,3,red\n", "text/csv");
        expect(res.status, res.body).toBe(200);
        expect(res.body.split("\n")).toHaveLength(3);
        expect(res.headers[MODEL_IDENTITY_HEADER.toLowerCase()]).toBe(modelIdentity(fs.readFileSync(path.join(base, "model", MODEL_FILE))));
      } finally {
        proc.kill("SIGTERM");
      }
      expect(await exited).toBe(0);
      expect(tree(base)).toEqual(before);
      expect(tree(home)).toEqual([]);
      expect(tree(cwd)).toEqual([]);
    }, 60_000);
  },
);
