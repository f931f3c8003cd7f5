import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { cruise, type IModule } from "dependency-cruiser";
import { beforeAll, describe, expect, it } from "vitest";

const PACKAGE_DIR = path.resolve(__dirname, "..");

/** What every domain room may lean on. */
const BASE = ["context", "aws", "config", "stacks", "system", "prerequisites", "output", "errors"];

/**
 * The rooms of src/, named for what they hold, and the rooms each may import from besides itself.
 * Imports run one way: entry → commands → domain rooms → the base; a domain room never imports a
 * command, and a command never imports another command.
 */
const ROOMS: Readonly<Record<string, { readonly paths: readonly string[]; readonly mayImport: readonly string[]; readonly notWithin?: true }>> = {
  // Registers the commands; main(): the one error handler; the package's exports.
  entry: { paths: ["src/index.ts"], mayImport: ["*"] },
  // One file per verb: parse options, call a domain module, format its result.
  commands: {
    paths: ["src/commands/"],
    mayImport: ["cli", "images", "training", "registry", "promotion", "smoke", "local", "drift", "data", "lineage", "features", "output", "errors"],
    notWithin: true,
  },
  // commander helpers every command uses (options, the collect-then-print action).
  cli: { paths: ["src/cli.ts"], mayImport: ["context"] },
  // Domain rooms, from the last step of the lifecycle to the first.
  // From a served model back to its data: reads the registries (cloud and local) and the manifests.
  lineage: { paths: ["src/lineage/"], mayImport: ["registry", "local", "data", ...BASE] },
  local: { paths: ["src/local/"], mayImport: ["training", "registry", "smoke", "drift", "data", "features", ...BASE] },
  // Captured requests against the served version's training baseline.
  drift: { paths: ["src/drift/"], mayImport: ["registry", "smoke", ...BASE] },
  promotion: { paths: ["src/promotion/"], mayImport: ["registry", "smoke", "images", "features", ...BASE] },
  registry: { paths: ["src/registry/"], mayImport: ["training", ...BASE] },
  training: { paths: ["src/training/"], mayImport: ["images", "data", ...BASE] },
  // Dataset snapshots and their manifests (S3 and the local store).
  data: { paths: ["src/data/"], mayImport: BASE },
  images: { paths: ["src/images/"], mayImport: BASE },
  // Feature sets: definitions, the local DuckDB store, point-in-time training sets, the schema gate.
  features: { paths: ["src/features/"], mayImport: ["data", ...BASE] },
  // The stack's smoke test checks the pinned version's recorded model identity.
  smoke: { paths: ["src/smoke/"], mayImport: ["registry", ...BASE] },
  // The base: what a command touches outside its own code, and the error and output conventions.
  context: { paths: ["src/context.ts"], mayImport: ["aws", "config", "stacks", "system", "output"] },
  aws: { paths: ["src/aws/"], mayImport: ["errors"] },
  config: { paths: ["src/config/"], mayImport: ["errors"] },
  stacks: { paths: ["src/stacks/"], mayImport: ["errors"] },
  system: { paths: ["src/system/"], mayImport: [] },
  prerequisites: { paths: ["src/prerequisites.ts"], mayImport: ["errors"] },
  output: { paths: ["src/output.ts"], mayImport: [] },
  errors: { paths: ["src/errors.ts"], mayImport: [] },
};

function roomOf(file: string): string | undefined {
  return Object.entries(ROOMS).find(([, room]) => room.paths.some((p) => (p.endsWith("/") ? file.startsWith(p) : file === p)))?.[0];
}

/** Every import between src/ files that the room map does not allow, one line each. */
function roomViolations(modules: ReadonlyArray<Pick<IModule, "source" | "dependencies">>): string[] {
  const problems: string[] = [];
  for (const m of modules.filter((m) => m.source.startsWith("src/"))) {
    const from = roomOf(m.source);
    if (!from) {
      problems.push(`${m.source} is in no room: add it to ROOMS`);
      continue;
    }
    for (const d of m.dependencies.filter((d) => d.resolved.startsWith("src/"))) {
      const to = roomOf(d.resolved);
      if (!to) continue; // reported as a file of its own
      const room = ROOMS[from]!;
      if (from === to ? room.notWithin : !room.mayImport.includes(to) && !room.mayImport.includes("*")) {
        problems.push(`${m.source} (${from}) imports ${d.resolved} (${to})`);
      }
    }
  }
  return problems;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

const BUILTINS = new Set(builtinModules);
const isPackage = (specifier: string) => !specifier.startsWith(".") && !specifier.startsWith("node:") && !BUILTINS.has(packageName(specifier));

let modules: IModule[];
beforeAll(async () => {
  const result = await cruise(
    ["src", "test"],
    {
      baseDir: PACKAGE_DIR,
      tsPreCompilationDeps: true,
      doNotFollow: { path: "node_modules" },
      validate: true,
      ruleSet: { forbidden: [{ name: "no-circular", severity: "error", from: {}, to: { circular: true } }] },
    },
    undefined,
    { tsConfig: { fileName: path.join(PACKAGE_DIR, "tsconfig.json") } },
  );
  if (typeof result.output === "string") throw new Error("dependency-cruiser returned text, not a graph");
  modules = result.output.modules.filter((m) => m.source.startsWith("src/") || m.source.startsWith("test/"));
}, 60_000);

describe("rooms: imports run one way", () => {
  it("every import between src/ files goes where the room map allows", () => {
    expect(modules.filter((m) => m.source.startsWith("src/")).length).toBeGreaterThan(30);
    expect(roomViolations(modules)).toEqual([]);
  });

  it("there are no import cycles", () => {
    // The circular rule ran: every dependency carries its verdict.
    expect(modules.every((m) => m.dependencies.every((d) => typeof d.circular === "boolean"))).toBe(true);
    const cycles = modules.flatMap((m) => m.dependencies.filter((d) => d.circular).map((d) => `${m.source} → ${d.resolved}`));
    expect(cycles).toEqual([]);
  });

  it.each([
    [
      "a command importing another command",
      "src/commands/deploy.ts",
      "src/commands/promote.ts",
      ["src/commands/deploy.ts (commands) imports src/commands/promote.ts (commands)"],
    ],
    [
      "a domain room importing a command",
      "src/local/lifecycle.ts",
      "src/commands/register.ts",
      ["src/local/lifecycle.ts (local) imports src/commands/register.ts (commands)"],
    ],
    ["an import against the direction", "src/images/build.ts", "src/training/job.ts", ["src/images/build.ts (images) imports src/training/job.ts (training)"]],
    ["a file outside every room", "src/deploy/apply.ts", "src/errors.ts", ["src/deploy/apply.ts is in no room: add it to ROOMS"]],
    ["an allowed import", "src/promotion/promote.ts", "src/registry/register.ts", []],
  ])("the check reports %s", (_, source, resolved, expected) => {
    expect(roomViolations([{ source, dependencies: [{ resolved } as IModule["dependencies"][number]] }])).toEqual(expected);
  });
});

describe("package.json declares what the package imports", () => {
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const runtime = new Set(Object.keys(pkg.dependencies ?? {}));
  const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
  const imported = (prefix: string) =>
    modules
      .filter((m) => m.source.startsWith(prefix))
      .flatMap((m) => m.dependencies.filter((d) => isPackage(d.module)).map((d) => ({ file: m.source, name: packageName(d.module) })));

  it("every package src/ imports is a dependency (not only a devDependency)", () => {
    const missing = imported("src/")
      .filter((i) => !runtime.has(i.name))
      .map((i) => `${i.file} imports ${i.name}${dev.has(i.name) ? " (only a devDependency)" : ""}`);
    expect(missing).toEqual([]);
  });

  it("every package test/ imports is a dependency or devDependency", () => {
    const missing = imported("test/")
      .filter((i) => !runtime.has(i.name) && !dev.has(i.name))
      .map((i) => `${i.file} imports ${i.name}`);
    expect(missing).toEqual([]);
  });

  it("every dependency is imported by src/", () => {
    const used = new Set(imported("src/").map((i) => i.name));
    expect([...runtime].filter((name) => !used.has(name))).toEqual([]);
  });
});
