import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Document, isMap, parseDocument } from "yaml";
import { CliError } from "../errors";
import { CONFIG_NAMESPACE, settingsInput, stackSettingsSchema, type StackSettings } from "./settings";

/** How many earlier versions a stack file remembers for `rollback`; older ones drop off the end. */
export const MAX_PREVIOUS_VERSIONS = 10;

const MODEL_KEY = `${CONFIG_NAMESPACE}:model`;

export interface StackFile {
  readonly stack: string;
  readonly path: string;
  /** The file exactly as read: what `restore` puts back. */
  readonly text: string;
  readonly settings: StackSettings;
}

/** The stack config files (`<dir>/Pulumi.<stack>.yaml`): read, validated, edited atomically. */
export class StackFiles {
  constructor(readonly dir: string) {}

  pathOf(stack: string): string {
    return path.join(this.dir, `Pulumi.${stack}.yaml`);
  }

  async read(stack: string): Promise<StackFile> {
    const file = this.pathOf(stack);
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      throw new CliError(`cannot read the config of stack "${stack}" (${file})`, {
        cause: err,
        hint: "stacks are dev, staging and prod; each has stacks/Pulumi.<stack>.yaml",
      });
    }
    return { stack, path: file, text, settings: parseSettings(stack, text) };
  }

  /** Replaces the file in one step: write a sibling temp file, flush it, rename over the original. */
  async write(stack: string, text: string): Promise<void> {
    const file = this.pathOf(stack);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const handle = await fs.open(tmp, "w");
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }
}

export function parseSettings(stack: string, text: string): StackSettings {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new CliError(`stack "${stack}": the config file is not valid YAML`, { details: doc.errors.map((e) => e.message) });
  }
  const config = (doc.toJS() as { config?: Record<string, unknown> } | null)?.config ?? {};
  const parsed = stackSettingsSchema.safeParse(settingsInput(config));
  if (!parsed.success) {
    throw new CliError(`stack "${stack}": invalid configuration`, {
      details: parsed.error.issues.map((i) => `${CONFIG_NAMESPACE}:${i.path.join(".")}: ${i.message}`),
    });
  }
  return parsed.data;
}

/**
 * Returns the file's text with `mlPlatform:model` pinned to `packageArn`: the old pin moves to the
 * front of `previousPackageArns`, an `artifactUri`/`image` pin is replaced. Comments and the order
 * of every other key are kept (the YAML Document API edits the tree, not the text).
 */
export function pinPackage(text: string, packageArn: string): string {
  return editModel(text, (model) => {
    const previous = model.packageArn && model.packageArn !== packageArn ? [model.packageArn, ...model.previous] : model.previous;
    return { packageArn, previous: previous.filter((a) => a !== packageArn) };
  });
}

/** Returns the file's text with the previous version pinned and dropped from the history. */
export function pinPrevious(text: string, to?: string): string {
  return editModel(text, (model) => {
    const target = to ?? model.previous[0];
    if (!target) throw new CliError("there is no previous version to roll back to (mlPlatform:model.previousPackageArns is empty)");
    const index = model.previous.indexOf(target);
    if (index < 0) throw new CliError(`${target} is not in mlPlatform:model.previousPackageArns`, { details: model.previous.map((a) => `known: ${a}`) });
    return { packageArn: target, previous: model.previous.slice(index + 1) };
  });
}

function editModel(text: string, next: (model: { packageArn?: string; previous: string[] }) => { packageArn: string; previous: string[] }): string {
  const doc = parseDocument(text);
  const config = doc.get("config", true);
  if (!isMap(config)) throw new CliError("the stack file has no `config:` map");
  const current = (doc.getIn(["config", MODEL_KEY]) as unknown) ?? null;
  const currentJs = isMap(current) ? (current.toJSON() as Record<string, unknown>) : {};
  const { packageArn, previous } = next({
    packageArn: typeof currentJs.packageArn === "string" ? currentJs.packageArn : undefined,
    previous: Array.isArray(currentJs.previousPackageArns) ? currentJs.previousPackageArns.filter((a): a is string => typeof a === "string") : [],
  });
  if (!isMap(current)) {
    doc.setIn(["config", MODEL_KEY], doc.createNode({}));
  }
  doc.deleteIn(["config", MODEL_KEY, "artifactUri"]);
  doc.deleteIn(["config", MODEL_KEY, "image"]);
  doc.setIn(["config", MODEL_KEY, "packageArn"], packageArn);
  const kept = previous.slice(0, MAX_PREVIOUS_VERSIONS);
  if (kept.length > 0) doc.setIn(["config", MODEL_KEY, "previousPackageArns"], doc.createNode(kept));
  else doc.deleteIn(["config", MODEL_KEY, "previousPackageArns"]);
  return stringify(doc);
}

function stringify(doc: Document): string {
  // lineWidth 0: never fold long ARNs onto a second line.
  return doc.toString({ lineWidth: 0 });
}
