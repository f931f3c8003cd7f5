/**
 * Checkpoints for managed spot training: SageMaker copies `checkpoints/` to S3 and back, so a job
 * interrupted by SIGTERM can save its state there and its restart can resume from it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Checkpoint } from "./session";
import { writeFileAtomic } from "../model/save";

export const CHECKPOINT_FILE = "ml-core-checkpoint.json";

export function saveCheckpoint(dir: string, cp: Checkpoint): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, CHECKPOINT_FILE);
  writeFileAtomic(file, JSON.stringify(cp));
  return file;
}

/** The checkpoint in `dir`, undefined if there is none; throws if one exists but cannot be read. */
export function loadCheckpoint(dir: string): Checkpoint | undefined {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Checkpoint;
  } catch (e) {
    throw new Error(`checkpoint ${file} is unreadable (${(e as Error).message}); delete it to start over`);
  }
}

export function removeCheckpoint(dir: string): void {
  fs.rmSync(path.join(dir, CHECKPOINT_FILE), { force: true });
}
