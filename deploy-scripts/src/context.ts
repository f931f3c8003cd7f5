import * as fs from "node:fs";
import * as path from "node:path";
import { createAwsClients, type AwsClients } from "./aws/clients";
import { StackFiles } from "./config/stack-file";
import { createOutput, type Output, type Streams } from "./output";
import { AutomationStackGateway } from "./stacks/automation";
import type { StackGateway } from "./stacks/gateway";
import { exec as realExec, type Exec } from "./system/exec";
import { gitCommit } from "./system/git";
import { kubectlPortForward, type StartPortForward } from "./system/port-forward";

/** Everything a command touches outside its own code; `main` builds the real one, tests a fake. */
export interface Deps {
  readonly streams: Streams;
  readonly repoRoot: string;
  readonly stacks: StackGateway;
  readonly stackFiles: StackFiles;
  readonly aws: AwsClients;
  readonly exec: Exec;
  readonly gitCommit: () => Promise<string>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Between two Describe calls while waiting for a job or an endpoint. */
  readonly pollIntervalMs: number;
  /** HTTP downloads (ECR layers from their presigned S3 URLs); tests pass their own. */
  readonly fetch: typeof fetch;
  /** Where SIGINT and SIGTERM arrive: the process, or an emitter in tests. */
  readonly signals: Pick<NodeJS.EventEmitter, "on" | "removeListener">;
  /** Opens a local port to a Kubernetes Service (`kubectl port-forward`); tests pass their own. */
  readonly portForward: StartPortForward;
}

export interface Context extends Deps {
  readonly out: Output;
  readonly json: boolean;
}

/** The repository root: the nearest directory above `from` that holds the Pulumi project file. */
export function findRepoRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

export function defaultDeps(overrides: Partial<Deps> = {}): Deps {
  const repoRoot = overrides.repoRoot ?? process.env.ML_DEPLOY_ROOT ?? findRepoRoot(process.cwd());
  const exec = overrides.exec ?? realExec;
  return {
    streams: { stdout: process.stdout, stderr: process.stderr },
    // ML_DEPLOY_POLICY_PACKS: comma-separated policy pack directories, as `pulumi up --policy-pack`.
    stacks: new AutomationStackGateway(
      repoRoot,
      (process.env.ML_DEPLOY_POLICY_PACKS ?? "")
        .split(",")
        .filter(Boolean)
        .map((p) => path.resolve(repoRoot, p)),
    ),
    stackFiles: new StackFiles(path.join(repoRoot, "stacks")),
    aws: createAwsClients(),
    exec,
    gitCommit: () => gitCommit(exec, repoRoot),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    pollIntervalMs: 30_000,
    fetch: (input, init) => fetch(input, init),
    signals: process,
    portForward: kubectlPortForward,
    ...overrides,
    repoRoot,
  };
}

export function contextFor(deps: Deps, json: boolean): Context {
  return { ...deps, out: createOutput(deps.streams), json };
}
