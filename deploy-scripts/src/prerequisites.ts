import { CliError } from "./errors";

/**
 * What a command needs from this machine and account besides its own code. A missing one is not a
 * bug to show a stack of: it gets one line saying what is missing, why this command needs it, and
 * what to do. Each is detected where it surfaces (the Automation API's CommandError, `exec`'s 127,
 * the AWS SDK's credential errors) and turned into that line here, in `prerequisiteError`.
 */
export type Prerequisite = "pulumi" | "docker" | "docker-daemon" | "aws-credentials" | "aws-credentials-expired" | "stack" | "kubectl";

/**
 * Thrown by our own code where it finds a prerequisite missing (Docker's 127 from `exec`); errors
 * of the tools and SDKs we drive are recognised by their own shape instead.
 */
export class MissingPrerequisite extends Error {
  constructor(
    readonly prerequisite: Prerequisite,
    /** The stack concerned, where there is one. */
    readonly stackName?: string,
  ) {
    super(`missing prerequisite: ${prerequisite}`);
    this.name = "MissingPrerequisite";
  }
}

const PULUMI_INSTALL = "install it (https://www.pulumi.com/docs/iac/download-install/), run `pulumi login`, and re-run";
const CREDENTIALS_DOCS = "https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html";

/** What is missing, and the next step. `{stack}` is replaced by the stack's name. */
const MISSING: Record<Prerequisite, { what: string; next: string }> = {
  pulumi: { what: "the Pulumi CLI is missing (no `pulumi` on PATH)", next: PULUMI_INSTALL },
  docker: { what: "Docker is missing (no `docker` on PATH)", next: "install Docker (https://docs.docker.com/get-started/get-docker/) and re-run" },
  "docker-daemon": { what: "no Docker daemon answered", next: "start Docker (or point DOCKER_HOST at a daemon) and re-run" },
  "aws-credentials": {
    what: "no AWS credentials were found",
    next: `run \`aws configure\` or \`aws sso login\`, or set AWS_PROFILE (${CREDENTIALS_DOCS}), and re-run`,
  },
  "aws-credentials-expired": { what: "the AWS credentials have expired", next: "refresh them (`aws sso login`, or new session credentials) and re-run" },
  kubectl: {
    what: "kubectl is missing (no `kubectl` on PATH)",
    next: "install it (https://kubernetes.io/docs/tasks/tools/), check `kubectl config get-contexts` lists the stack's cluster context, and re-run",
  },
  stack: { what: 'stack "{stack}" does not exist yet', next: "create it from the repository root: `pulumi stack init {stack} && pulumi up --stack {stack}`" },
};

const READS_OUTPUTS = "reads the stack's outputs (buckets, roles, registry) with it";
const UPDATES_STACKS = "reads the stacks' outputs and runs preview and update with it";
const CALLS_AWS = "calls SageMaker and S3 with them";

/** Why each command needs each prerequisite; `*` is any other command. */
const WHY: Record<Prerequisite, Record<string, string>> = {
  pulumi: { deploy: UPDATES_STACKS, promote: UPDATES_STACKS, rollback: UPDATES_STACKS, "*": READS_OUTPUTS },
  docker: {
    images: "builds and pushes the ml-core image with it",
    train: "looks up the image pushed for the current sources with it (or pass --image <repository>@sha256:<digest>)",
    "*": "runs it",
  },
  "docker-daemon": {
    images: "builds and pushes the ml-core image with it",
    train: "looks up the image pushed for the current sources with it (or pass --image <repository>@sha256:<digest>)",
    "*": "runs it",
  },
  "aws-credentials": { "*": CALLS_AWS },
  "aws-credentials-expired": { "*": CALLS_AWS },
  stack: { "*": "works on the stack's resources, named by its outputs" },
  kubectl: { "*": "reaches a Kubernetes stack's Service through `kubectl port-forward` for the smoke test" },
};

/** The prerequisite an error says is missing, if any, and the stack it concerns. */
export function missingPrerequisite(err: unknown): { prerequisite: Prerequisite; stack?: string } | undefined {
  if (err instanceof MissingPrerequisite) return { prerequisite: err.prerequisite, stack: err.stackName };
  if (!(err instanceof Error)) return undefined;
  // The Automation API runs `pulumi`; when it cannot start it, the result carries the spawn error.
  const result = (err as { commandResult?: { code?: number; err?: { code?: string; path?: string } } }).commandResult;
  if (err.name === "CommandError" && (result?.err?.code === "ENOENT" || /spawn pulumi ENOENT/.test(err.message))) return { prerequisite: "pulumi" };
  // `pulumi stack select` of a stack never initialised (StackNotFoundError: "no stack named 'dev' found").
  const notFound = /no stack named '([^']+)' found/.exec(err.message);
  if (err.name === "StackNotFoundError" || notFound) return { prerequisite: "stack", stack: notFound?.[1] };
  // The SDK's credential chain found nothing (CredentialsProviderError), or an SSO token is missing.
  if (err.name === "CredentialsProviderError" || err.name === "TokenProviderError") return { prerequisite: "aws-credentials" };
  if (err.name === "ExpiredToken" || err.name === "ExpiredTokenException") return { prerequisite: "aws-credentials-expired" };
  return undefined;
}

/**
 * The one line for a missing prerequisite, as the error `main` prints, or undefined when `err` is
 * something else. `command` is the ml-deploy command that ran.
 */
export function prerequisiteError(err: unknown, command: string): CliError | undefined {
  const found = missingPrerequisite(err);
  if (!found) return undefined;
  const { what, next } = MISSING[found.prerequisite];
  const why = WHY[found.prerequisite][command] ?? WHY[found.prerequisite]["*"];
  const fill = (s: string) => s.replaceAll("{stack}", found.stack ?? "<stack>");
  return new CliError(`${fill(what)}: ml-deploy ${command} ${why}; ${fill(next)}`, { cause: err });
}
