/**
 * The image cannot be built here (no Docker daemon), so these tests check what can be checked
 * without one: the Dockerfile's shape, that everything it copies exists and passes the ignore file,
 * that its entrypoint dispatches `serve` and `predict`, and that the production dependency closure
 * it installs holds nothing of Pulumi or the AWS SDK.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ML_CORE, REPO, ensureBuilt } from "./server-helpers";

const dockerfile = fs.readFileSync(path.join(ML_CORE, "Dockerfile"), "utf8");
const ignoreFile = fs.readFileSync(path.join(ML_CORE, "Dockerfile.dockerignore"), "utf8");

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Instructions with line continuations joined and comments dropped. */
const instructions: Instruction[] = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"))
  .map((l) => {
    const m = /^(\w+)\s+(.*)$/.exec(l);
    return { op: (m?.[1] ?? l).toUpperCase(), args: m?.[2] ?? "" };
  });

const stages = instructions.filter((i) => i.op === "FROM");
const finalStage = instructions.slice(instructions.lastIndexOf(stages[stages.length - 1]));
const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];

interface Copy {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly dest: string;
}

function copies(list: Instruction[]): Copy[] {
  return list
    .filter((i) => i.op === "COPY")
    .map((i) => {
      const words = i.args.split(/\s+/);
      const flags = words.filter((w) => w.startsWith("--"));
      const rest = words.filter((w) => !w.startsWith("--"));
      return { from: flags.find((f) => f.startsWith("--from="))?.slice(7), sources: rest.slice(0, -1), dest: rest[rest.length - 1] };
    });
}

/** Docker's ignore-file rules, enough for this allowlist: later lines win, `!` re-includes. */
function ignored(file: string): boolean {
  let out = false;
  for (const raw of ignoreFile.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    const pattern = (negate ? line.slice(1) : line).replace(/\/$/, "");
    const re = new RegExp(
      "^" +
        pattern
          .split("/")
          .map((seg) => (seg === "**" ? ".*" : seg.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")))
          .join("/")
          .replace(/\.\*\//g, "(.*/)?") +
        "(/.*)?$",
    );
    if (re.test(file)) out = !negate;
  }
  return out;
}

describe("ml-core/Dockerfile", () => {
  it("builds in stages from an official slim Node 20 image pinned by exact version tag, without an unverified digest", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(nodeImage).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    for (const from of stages) expect(from.args).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);
  });

  it("runs as root, as SageMaker expects, with an exec-form entrypoint so signals reach node", () => {
    // A non-root USER breaks SageMaker's /opt/ml mounts; Kubernetes sets its UID in the pod spec.
    const users = instructions.filter((i) => i.op === "USER").map((i) => i.args.trim());
    expect(users.filter((u) => !/^(root|0)(:(root|0))?$/.test(u))).toEqual([]);
    const entrypoint = finalStage.filter((i) => i.op === "ENTRYPOINT");
    expect(entrypoint).toHaveLength(1);
    expect(JSON.parse(entrypoint[0].args)).toEqual(["node", "/opt/program/ml-core/bin/ml-core.js"]);
    expect(finalStage.some((i) => i.op === "CMD")).toBe(false);
  });

  it("works under any UID: the program readable by all, /opt/ml group-0 writable, HOME in /tmp", () => {
    const runs = finalStage.filter((i) => i.op === "RUN").map((i) => i.args);
    expect(runs.some((r) => /chmod -R a\+rX \/opt\/program/.test(r))).toBe(true);
    expect(runs.some((r) => /chgrp -R 0 \/opt\/ml/.test(r) && /chmod -R g=u\S* \/opt\/ml/.test(r))).toBe(true);
    expect(finalStage.find((i) => i.op === "ENV")?.args).toMatch(/\bHOME=\/tmp\b/);
  });

  it("declares SageMaker's bind-to-port capability and exposes 8080", () => {
    expect(finalStage.find((i) => i.op === "LABEL")?.args).toContain("com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true");
    expect(finalStage.filter((i) => i.op === "EXPOSE").map((i) => i.args)).toEqual(["8080"]);
  });

  it("copies only paths that exist and that the ignore file lets through", () => {
    const fromContext = copies(instructions).filter((c) => c.from === undefined);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const c of fromContext) {
      for (const src of c.sources) {
        expect(fs.existsSync(path.join(REPO, src)), `${src} exists`).toBe(true);
        expect(ignored(src), `${src} is not ignored`).toBe(false);
      }
    }
    expect(ignored("node_modules/commander/index.js")).toBe(true);
    expect(ignored("ml-core/dist/index.js")).toBe(true);
    expect(ignored("infra/index.ts")).toBe(true);
    expect(ignored("ml-core/src/server/app.ts")).toBe(false);
  });

  it("puts the compiled CLI where the entrypoint looks for it", () => {
    const final = copies(finalStage);
    expect(final).toContainEqual({ from: undefined, sources: ["ml-core/bin"], dest: "./ml-core/bin" });
    expect(final).toContainEqual({ from: "build", sources: ["/src/ml-core/dist"], dest: "./ml-core/dist" });
    expect(finalStage.find((i) => i.op === "WORKDIR")?.args).toBe("/opt/program");
    // The build stage compiles what the bin launcher requires.
    expect(fs.readFileSync(path.join(ML_CORE, "bin", "ml-core.js"), "utf8")).toContain('require("../dist/runtime/cli.js")');
  });

  it("installs production dependencies of ml-core alone, from the lockfile", () => {
    expect(instructions.some((i) => i.op === "RUN" && i.args === "npm ci --omit=dev --workspace ml-core --ignore-scripts --no-audit --no-fund")).toBe(true);
  });
});

describe("the image's dependencies", () => {
  it("hold nothing of Pulumi or the AWS SDK: ml-core's production closure in the lockfile", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
    };
    const closure = new Set<string>();
    const visit = (name: string): void => {
      if (closure.has(name)) return;
      closure.add(name);
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, `${name} is in the lockfile`).toBeDefined();
      for (const dep of Object.keys({ ...entry?.dependencies, ...entry?.optionalDependencies })) visit(dep);
    };
    const manifest = JSON.parse(fs.readFileSync(path.join(ML_CORE, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies)) visit(dep);
    expect([...closure].filter((n) => n.startsWith("@pulumi/") || n.startsWith("@aws-sdk/") || n === "aws-sdk")).toEqual([]);
    expect(closure.has("commander")).toBe(true);
  });

  it("are never imported from ml-core's source", () => {
    const offenders = fs
      .readdirSync(path.join(ML_CORE, "src"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".ts"))
      .map((e) => path.join(e.parentPath, e.name))
      .filter((f) => /from\s+["'](@pulumi\/|@aws-sdk\/|aws-sdk)/.test(fs.readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });
});

describe("the entrypoint", () => {
  beforeAll(() => ensureBuilt(), 120_000);
  const run = (...args: string[]): string => execFileSync(process.execPath, [path.join(ML_CORE, "bin", "ml-core.js"), ...args], { encoding: "utf8" });

  it.each([
    ["serve", /Serve the model over HTTP/],
    ["predict", /Score a file of rows/],
  ])("dispatches `docker run IMAGE %s`", (command, description) => {
    expect(run(command, "--help")).toMatch(description);
    expect(run("--help")).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  });
});
