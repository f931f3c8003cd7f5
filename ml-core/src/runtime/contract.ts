/**
 * The SageMaker training container contract: where the job finds its configuration and data and
 * where it must leave the model, the failure reason and checkpoints. The only module besides the
 * CLI entry that knows about /opt/ml or reads the environment.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { MANIFEST_CHANNEL } from "../train/manifest";

/** As sagemaker-training-toolkit's environment.py: BASE_PATH_ENV and SAGEMAKER_BASE_PATH. */
export const BASE_DIR_ENV = "SAGEMAKER_BASE_DIR";
export const DEFAULT_BASE_DIR = "/opt/ml";
export const TRAIN_CHANNEL = "train";
export const VALIDATION_CHANNEL = "validation";

export interface ContractPaths {
  readonly base: string;
  readonly hyperparameters: string;
  readonly inputDataConfig: string;
  readonly dataDir: string;
  readonly modelDir: string;
  readonly outputDir: string;
  readonly failureFile: string;
  /** CheckpointConfig.LocalPath's default; SageMaker syncs it with S3 for managed spot training. */
  readonly checkpointDir: string;
}

export function baseDirFromEnv(env: NodeJS.ProcessEnv): string {
  const v = env[BASE_DIR_ENV];
  return v !== undefined && v.length > 0 ? v : DEFAULT_BASE_DIR;
}

export function contractPaths(base: string): ContractPaths {
  return {
    base,
    hyperparameters: path.join(base, "input/config/hyperparameters.json"),
    inputDataConfig: path.join(base, "input/config/inputdataconfig.json"),
    dataDir: path.join(base, "input/data"),
    modelDir: path.join(base, "model"),
    outputDir: path.join(base, "output"),
    failureFile: path.join(base, "output/failure"),
    checkpointDir: path.join(base, "checkpoints"),
  };
}

export class ContractError extends Error {
  override readonly name = "ContractError";
}

/** hyperparameters.json; absent means "all defaults" (SageMaker omits it when none are set). */
export function readHyperparametersFile(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ContractError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new ContractError(`${file} must hold a JSON object of strings`);
  return doc as Record<string, unknown>;
}

interface ChannelConfig {
  ContentType?: string;
  TrainingInputMode?: string;
  CompressionType?: string;
}

/** Content types this algorithm reads (SageMaker passes the channel's ContentType through). */
export const SUPPORTED_CONTENT_TYPES = ["text/csv", "text/csv; label_size=1", "application/x-csv", "csv"];

/**
 * The channels to read: from inputdataconfig.json when present (checking what this container
 * supports), else the directories under input/data.
 */
export function channelFiles(paths: ContractPaths): Record<string, string[]> {
  const problems: string[] = [];
  let names: string[];
  if (fs.existsSync(paths.inputDataConfig)) {
    let cfg: Record<string, ChannelConfig>;
    try {
      cfg = JSON.parse(fs.readFileSync(paths.inputDataConfig, "utf8"));
    } catch (e) {
      throw new ContractError(`${paths.inputDataConfig} is not valid JSON: ${(e as Error).message}`);
    }
    names = Object.keys(cfg);
    for (const [name, c] of Object.entries(cfg)) {
      if (c.TrainingInputMode !== undefined && c.TrainingInputMode !== "File")
        problems.push(`channel "${name}": TrainingInputMode ${c.TrainingInputMode} is not supported (use File)`);
      if (name !== MANIFEST_CHANNEL && c.ContentType !== undefined && !SUPPORTED_CONTENT_TYPES.includes(c.ContentType.toLowerCase()))
        problems.push(`channel "${name}": ContentType ${c.ContentType} is not supported (use text/csv)`);
    }
  } else {
    names = fs.existsSync(paths.dataDir) ? fs.readdirSync(paths.dataDir).filter((d) => fs.statSync(path.join(paths.dataDir, d)).isDirectory()) : [];
  }
  const unknown = names.filter((n) => n !== TRAIN_CHANNEL && n !== VALIDATION_CHANNEL && n !== MANIFEST_CHANNEL);
  if (unknown.length > 0)
    problems.push(
      `unknown channel(s) ${unknown.join(", ")}: this algorithm reads "${TRAIN_CHANNEL}" (required), "${VALIDATION_CHANNEL}" and "${MANIFEST_CHANNEL}" (optional)`,
    );
  if (!names.includes(TRAIN_CHANNEL)) problems.push(`no "${TRAIN_CHANNEL}" channel`);
  if (problems.length > 0) throw new ContractError(problems.join("\n"));
  const out: Record<string, string[]> = {};
  for (const name of names) out[name] = listDataFiles(path.join(paths.dataDir, name));
  return out;
}

/** Regular files under `p` (or `p` itself), recursively, sorted by path; hidden files skipped. */
export function listDataFiles(p: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new ContractError(`${p} does not exist`);
  }
  if (st.isFile()) return [p];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith(".")) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() || e.isSymbolicLink()) out.push(full);
    }
  };
  walk(p);
  return out;
}
