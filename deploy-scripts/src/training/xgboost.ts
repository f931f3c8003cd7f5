/**
 * Training on SageMaker's built-in XGBoost (`training.algorithm: xgboost`): the container image
 * for the stack's region and version, ml-core's hyperparameters in XGBoost's names, and the parts
 * of the CreateTrainingJob request that differ from an ml-core job. The trained `xgboost-model`
 * (UBJSON from container 3.0-5 on) is served by the ml-core image, which converts it at start.
 */
import type { CreateTrainingJobCommandInput } from "@aws-sdk/client-sagemaker";
import { DATASET_CHANNELS, XGBOOST_VERSIONS } from "@ml-platform/contract";
import { HyperparameterError, parseHyperparameters } from "@ml-platform/ml-core";
import { CliError } from "../errors";
import type { HyperparameterSource } from "./hyperparameters";

export type XgboostVersion = (typeof XGBOOST_VERSIONS)[number];
export const DEFAULT_XGBOOST_VERSION: XgboostVersion = "3.0-5";

/**
 * The account of the `sagemaker-xgboost` repository per region, for every version that
 * XGBOOST_VERSIONS allows (the same accounts for 1.7-1 through 3.2-0). Source: the SageMaker Python
 * SDK's sagemaker-core/src/sagemaker/core/image_uri_config/xgboost.json, "training" scope (commit
 * a24812666d25). The us-iso* regions are left out: their registries live under other domains.
 */
export const XGBOOST_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  "af-south-1": "510948584623",
  "ap-east-1": "651117190479",
  "ap-northeast-1": "354813040037",
  "ap-northeast-2": "366743142698",
  "ap-northeast-3": "867004704886",
  "ap-south-1": "720646828776",
  "ap-south-2": "628508329040",
  "ap-southeast-1": "121021644041",
  "ap-southeast-2": "783357654285",
  "ap-southeast-3": "951798379941",
  "ap-southeast-4": "106583098589",
  "ca-central-1": "341280168497",
  "ca-west-1": "190319476487",
  "cn-north-1": "450853457545",
  "cn-northwest-1": "451049120500",
  "eu-central-1": "492215442770",
  "eu-central-2": "680994064768",
  "eu-north-1": "662702820516",
  "eu-south-1": "978288397137",
  "eu-south-2": "104374241257",
  "eu-west-1": "141502667606",
  "eu-west-2": "764974769150",
  "eu-west-3": "659782779980",
  "il-central-1": "898809789911",
  "me-central-1": "272398656194",
  "me-south-1": "801668240914",
  "sa-east-1": "737474898029",
  "us-east-1": "683313688378",
  "us-east-2": "257758044811",
  "us-gov-east-1": "237065988967",
  "us-gov-west-1": "414596584902",
  "us-west-1": "746614075791",
  "us-west-2": "246618743249",
};

/** `<account>.dkr.ecr.<region>.<domain>/sagemaker-xgboost:<version>`, as the SDK's `image_uris.retrieve` builds it. */
export function xgboostImageUri(stack: string, region: string, version: XgboostVersion): string {
  const account = XGBOOST_REGISTRY_ACCOUNTS[region];
  if (account === undefined) {
    throw new CliError(`stack "${stack}": SageMaker's built-in XGBoost has no image in region ${region}`, {
      hint: `training.algorithm xgboost runs in: ${Object.keys(XGBOOST_REGISTRY_ACCOUNTS).join(", ")}`,
    });
  }
  const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `${account}.dkr.ecr.${region}.${domain}/sagemaker-xgboost:${version}`;
}

/** ml-core objective → XGBoost objective (the three ml-core serves from an XGBoost model). */
const OBJECTIVES: Readonly<Record<string, string>> = { binary: "binary:logistic", multiclass: "multi:softprob", regression: "reg:squarederror" };

/** Per ml-core objective, XGBoost's `eval_metric` for each early-stopping metric that has one. */
const EVAL_METRICS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  binary: { loss: "logloss", logloss: "logloss", auc: "auc" },
  multiclass: { loss: "mlogloss", logloss: "mlogloss" },
  regression: { loss: "rmse", rmse: "rmse", mae: "mae" },
};

/** ml-core hyperparameters XGBoost has no equivalent for, and why; refused when set. */
const NO_EQUIVALENT: Readonly<Record<string, string>> = {
  label: "XGBoost reads headerless CSV with the label in the first column",
  categorical_columns: "the built-in XGBoost reads numeric CSV only",
  ignore_columns: "XGBoost reads every column after the label as a feature",
  weight_column: "XGBoost takes weights from the second CSV column (csv_weights), not by name",
  min_samples_leaf: "XGBoost bounds leaves by hessian (min_sum_hessian_in_leaf → min_child_weight), not by row count",
  early_stopping_tol: "XGBoost's early stopping has no tolerance",
  checkpoint_interval: "the built-in XGBoost checkpoints every round when the job has a checkpoint location",
};

/** XGBoost's own key, accepted only here: multiclass needs the class count (labels 0 … num_class-1). */
const NUM_CLASS = "num_class";

/**
 * Merges the sources (the last wins), checks the values with ml-core's parser (ranges and rules
 * between keys, as for an ml-core job) and translates them into the built-in XGBoost's names. Every
 * problem is reported at once, before any job is created.
 */
export function xgboostHyperparameters(stack: string, sources: readonly HyperparameterSource[]): Record<string, string> {
  const raw: Record<string, string> = {};
  const origin: Record<string, string> = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source.values)) {
      raw[key] = String(value);
      origin[key] = source.where;
    }
  }
  const problems: string[] = [];
  const { [NUM_CLASS]: numClass, ...mlCore } = raw;
  for (const key of Object.keys(mlCore)) {
    if (NO_EQUIVALENT[key] !== undefined) problems.push(`${origin[key]}: ${key} has no XGBoost equivalent: ${NO_EQUIVALENT[key]}`);
  }
  let params: ReturnType<typeof parseHyperparameters>["params"] | undefined;
  try {
    params = parseHyperparameters(mlCore).params;
  } catch (err) {
    if (!(err instanceof HyperparameterError)) throw err;
    const lines = err.message
      .split("\n")
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean);
    problems.push(...(lines.length > 0 ? lines : [err.message]).map((l) => `mlPlatform:training.hyperparameters of stack "${stack}": ${l}`));
  }
  const out: Record<string, string> = {};
  if (params) {
    const objective = OBJECTIVES[params.objective];
    if (objective === undefined) {
      problems.push(
        `${origin.objective ?? `mlPlatform:training.hyperparameters of stack "${stack}"`}: objective ${params.objective} has no XGBoost equivalent: set binary, multiclass or regression (XGBoost does not infer the task from the labels)`,
      );
    } else {
      out.objective = objective;
    }
    if (params.objective === "multiclass") {
      const k = Number(numClass);
      if (numClass === undefined || !Number.isInteger(k) || k < 2)
        problems.push(
          `${origin[NUM_CLASS] ?? `mlPlatform:training.hyperparameters of stack "${stack}"`}: num_class (${numClass ?? "missing"}) must be an integer of at least 2 with objective multiclass (XGBoost's labels are 0 … num_class-1)`,
        );
      else out.num_class = String(k);
    } else if (numClass !== undefined) {
      problems.push(`${origin[NUM_CLASS]}: num_class is only for objective multiclass`);
    }
    out.num_round = String(params.numRound);
    out.eta = String(params.learningRate);
    // hist: the method that trains across instances, and the one lossguide needs.
    out.tree_method = "hist";
    out.grow_policy = params.growPolicy === "leafwise" ? "lossguide" : "depthwise";
    out.max_leaves = String(params.maxLeafNodes);
    out.max_depth = String(params.maxDepth);
    out.max_bin = String(params.maxBins);
    out.min_child_weight = String(params.minSumHessianInLeaf);
    out.lambda = String(params.l2Regularization);
    // ml-core's gains omit the ½ of the loss (sklearn's), XGBoost's gamma does not.
    if (mlCore.min_gain_to_split !== undefined) out.gamma = String(params.minGainToSplit / 2);
    for (const [ours, theirs] of [
      ["subsample", "subsample"],
      ["colsample_bytree", "colsample_bytree"],
      ["colsample_bynode", "colsample_bynode"],
      ["scale_pos_weight", "scale_pos_weight"],
      ["seed", "seed"],
    ] as const) {
      if (mlCore[ours] !== undefined) out[theirs] = mlCore[ours].trim();
    }
    if (mlCore.threads !== undefined && params.threads > 0) out.nthread = String(params.threads);
    const monotone = mlCore.monotone_constraints?.trim();
    if (monotone) {
      if (/^\(\s*-?[01](\s*,\s*-?[01])*\s*\)$/.test(monotone)) out.monotone_constraints = monotone;
      else
        problems.push(
          `${origin.monotone_constraints}: monotone_constraints by feature name has no XGBoost equivalent: give one 1, -1 or 0 per feature in order, e.g. (1,0,-1)`,
        );
    }
    const metric = EVAL_METRICS[params.objective]?.[params.earlyStoppingMetric];
    if (objective !== undefined && metric === undefined) {
      problems.push(
        `${origin.early_stopping_metric}: early_stopping_metric ${params.earlyStoppingMetric} has no XGBoost eval_metric for ${params.objective}; use ${Object.keys(EVAL_METRICS[params.objective] ?? {}).join(", ")}`,
      );
    } else if (metric !== undefined) {
      // The last eval_metric is the one the container's early stopping watches.
      out.eval_metric = metric;
    }
    if (params.earlyStoppingRounds > 0) out.early_stopping_rounds = String(params.earlyStoppingRounds);
  }
  if (problems.length > 0) {
    throw new CliError(`stack "${stack}": hyperparameters the built-in XGBoost cannot take; no training job was created`, {
      details: problems,
      hint: `with training.algorithm xgboost, ml-core's names are translated (learning_rate → eta, max_leaf_nodes → max_leaves, ...); these have none: ${Object.keys(NO_EQUIVALENT).join(", ")}`,
    });
  }
  return out;
}

/** What the built-in XGBoost job changes in an ml-core job's request. */
export interface XgboostJobParts {
  readonly image: string;
  readonly hyperparameters: Record<string, string>;
}

/**
 * An ml-core job's request turned into the built-in XGBoost's: its image, its hyperparameters, no
 * metric definitions (SageMaker's built-in algorithms publish their own metrics, e.g.
 * validation:auc, and do not take definitions), and the training channel sharded across the
 * instances (each host reads its share of the files and the hosts combine their histograms) while
 * every host reads the whole validation channel. Spot, checkpoints, KMS, network isolation, tags
 * and limits stay as for an ml-core job.
 */
export function asXgboostJob(request: CreateTrainingJobCommandInput, parts: XgboostJobParts, trainChannel: string): CreateTrainingJobCommandInput {
  const spec = request.AlgorithmSpecification!;
  const { MetricDefinitions: _ignored, ...algorithm } = spec;
  return {
    ...request,
    AlgorithmSpecification: { ...algorithm, TrainingImage: parts.image },
    HyperParameters: parts.hyperparameters,
    // The built-in algorithm knows only its train and validation channels: the manifest channel
    // (which ml-core verifies) is left out. The job still reads exactly the manifest's bytes, since
    // its ManifestFile channels list content-addressed keys, and the manifest id is tagged on it.
    InputDataConfig: request.InputDataConfig?.filter((c) => (DATASET_CHANNELS as readonly string[]).includes(c.ChannelName ?? "")).map((c) =>
      c.ChannelName === trainChannel && c.DataSource?.S3DataSource
        ? { ...c, DataSource: { ...c.DataSource, S3DataSource: { ...c.DataSource.S3DataSource, S3DataDistributionType: "ShardedByS3Key" } } }
        : c,
    ),
  };
}
