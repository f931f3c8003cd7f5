import type { MetricDefinition } from "@aws-sdk/client-sagemaker";
import { HYPERPARAMETERS, HyperparameterError, metricDefinitions, parseHyperparameters } from "@ml-platform/ml-core";
import { CliError } from "../errors";

export type HyperparameterValue = string | number | boolean;

/** One place hyperparameters come from, named as a user would find it. */
export interface HyperparameterSource {
  /** e.g. `mlPlatform:training.hyperparameters of stack "dev"`, or `--hp`. */
  readonly where: string;
  readonly values: Readonly<Record<string, HyperparameterValue>>;
}

export interface ResolvedHyperparameters {
  /** As SageMaker passes them to the container: every value a string. */
  readonly values: Record<string, string>;
  /** The metric definitions for the objective they select (both families for `auto`). */
  readonly metricDefinitions: MetricDefinition[];
}

/**
 * Merges the sources (a later one overrides an earlier one, key by key) and checks the result with
 * ml-core's own parser, the one the training container runs: a job that would fail on its
 * hyperparameters is refused here, before it is created and billed. Each problem is ml-core's own
 * (it names the key) after where the value came from; the hint lists the keys ml-core accepts.
 */
export function resolveHyperparameters(stack: string, sources: readonly HyperparameterSource[]): ResolvedHyperparameters {
  const values: Record<string, string> = {};
  const origin: Record<string, string> = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source.values)) {
      values[key] = String(value);
      origin[key] = source.where;
    }
  }
  // Key by key first, so each problem is traced to its source; then together, for the rules
  // between keys (grow_policy depthwise needs a bound).
  const problems = Object.entries(values).flatMap(([key, value]) => parseProblems({ [key]: value }).map((p) => `${origin[key]}: ${p}`));
  let parsed: ReturnType<typeof parseHyperparameters> | undefined;
  if (problems.length === 0) {
    try {
      parsed = parseHyperparameters(values);
    } catch (err) {
      if (!(err instanceof HyperparameterError)) throw err;
      const where = [...new Set(Object.values(origin))].join(" and ");
      problems.push(...problemLines(err).map((p) => `${where}: ${p}`));
    }
  }
  if (!parsed || problems.length > 0) {
    throw new CliError(`stack "${stack}": invalid hyperparameters; no training job was created`, {
      details: problems,
      hint: `the hyperparameters ml-core accepts: ${HYPERPARAMETERS.map((h) => h.name).join(", ")}`,
    });
  }
  const objective = parsed.params.objective;
  const definitions =
    objective === "binary" || objective === "multiclass" || objective === "regression"
      ? metricDefinitions(objective)
      : [...metricDefinitions("binary"), ...metricDefinitions("regression")];
  return { values, metricDefinitions: definitions };
}

function parseProblems(raw: Record<string, string>): string[] {
  try {
    parseHyperparameters(raw);
    return [];
  } catch (err) {
    if (!(err instanceof HyperparameterError)) throw err;
    return problemLines(err);
  }
}

/** ml-core reports `invalid hyperparameters:` and then one indented line per problem. */
function problemLines(err: HyperparameterError): string[] {
  const lines = err.message
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length > 0 ? lines : [err.message];
}
