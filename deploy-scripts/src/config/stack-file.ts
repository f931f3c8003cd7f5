import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Document, isMap, isScalar, parseDocument } from "yaml";
import { CliError } from "../errors";
import { CONFIG_NAMESPACE, readStackSettings, type StackSettings } from "./settings";

/** How many earlier versions a stack file remembers for `rollback`; older ones drop off the end. */
export const MAX_PREVIOUS_VERSIONS = 10;

const MODEL_KEY = `${CONFIG_NAMESPACE}:model`;
const PIPELINE_KEY = `${CONFIG_NAMESPACE}:pipeline`;

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
  const parsed = readStackSettings(stack, config);
  if (!parsed.ok) throw new CliError(`stack "${stack}": invalid configuration`, { details: parsed.problems });
  return parsed.settings;
}

/**
 * Returns the file's text with `mlPlatform:model` pinned to `packageArn`: the old pin moves to the
 * front of `previousPackageArns`, an `artifactUri`/`image` pin is replaced. Comments and the order
 * of every other key are kept (the YAML Document API edits the tree, not the text).
 */
export function pinPackage(text: string, packageArn: string, artifact?: ArtifactPin): string {
  return editModel(text, (model) => {
    const previous = model.packageArn && model.packageArn !== packageArn ? [model.packageArn, ...model.previous] : model.previous;
    return { packageArn, previous: previous.filter((a) => a !== packageArn), ...artifact };
  });
}

/**
 * The artifact and image a Kubernetes stack's pods run, beside the version they were resolved from
 * (the program cannot call DescribeModelPackage at plan time).
 */
export interface ArtifactPin {
  readonly artifactUri: string;
  readonly image: string;
}

/** Returns the file's text with the pinned version's artifact and image written beside its packageArn. */
export function pinArtifact(text: string, artifact: ArtifactPin): string {
  return editModel(text, (model) => {
    if (!model.packageArn) throw new CliError("the stack file pins no packageArn to write the artifact and image beside");
    return { packageArn: model.packageArn, previous: model.previous, ...artifact };
  });
}

/** The `packageArn` a stack file's text pins, read without validating the rest (a half-written pin). */
export function pinnedPackageArn(text: string): string | undefined {
  const model = (parseDocument(text).toJS() as { config?: Record<string, { packageArn?: unknown } | undefined> } | null)?.config?.[MODEL_KEY];
  return typeof model?.packageArn === "string" ? model.packageArn : undefined;
}

/**
 * Returns the file's text with `mlPlatform:pipeline.image` set to `image` (the image the training
 * pipeline's steps run), or undefined when the stack declares no pipeline. Comments and every
 * other key are kept.
 */
export function pinPipelineImage(text: string, image: string): string | undefined {
  const doc = parseDocument(text);
  const pipeline = doc.getIn(["config", PIPELINE_KEY], true);
  if (!isMap(pipeline)) return undefined;
  pipeline.set("image", image);
  return doc.toString();
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

function editModel(
  text: string,
  next: (model: { packageArn?: string; previous: string[] }) => { packageArn: string; previous: string[] } & Partial<ArtifactPin>,
): string {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const config = doc.get("config", true);
  if (!isMap(config)) throw new CliError("the stack file has no `config:` map");
  const pair = config.items.find((p) => isScalar(p.key) && p.key.value === MODEL_KEY);
  const current = pair?.value;
  const currentJs = isMap(current) ? (current.toJSON() as Record<string, unknown>) : {};
  const { packageArn, previous, ...artifact } = next({
    packageArn: typeof currentJs.packageArn === "string" ? currentJs.packageArn : undefined,
    previous: Array.isArray(currentJs.previousPackageArns) ? currentJs.previousPackageArns.filter((a): a is string => typeof a === "string") : [],
  });
  const kept = previous.slice(0, MAX_PREVIOUS_VERSIONS);

  // Only the lines of `mlPlatform:model` are rewritten; every other byte of the file stays as it
  // was. (Re-printing the whole document would re-indent some comments.) Comments inside the old
  // model block are dropped with it: the block is the tool's to write.
  const firstKey = config.items[0]?.key;
  const keyOffset = isScalar(pair?.key) ? pair.key.range![0] : isScalar(firstKey) ? firstKey.range![0] : undefined;
  if (keyOffset === undefined) return stringify(withModel(doc, packageArn, kept, artifact));
  const indent = keyOffset - (text.lastIndexOf("\n", keyOffset - 1) + 1);
  const body = renderModel(packageArn, kept, " ".repeat(indent + 2), artifact);
  if (pair && isMap(current) && current.items.length > 0 && current.range) {
    const from = text.lastIndexOf("\n", current.range[0] - 1) + 1;
    const to = lineEnd(text, current.range[1]);
    return text.slice(0, from) + body + text.slice(to);
  }
  if (pair && (current === null || current === undefined || (isScalar(current) && current.value === null))) {
    const keyEnd = lineEnd(text, isScalar(pair.key) ? pair.key.range![1] : keyOffset);
    const line = text.slice(text.lastIndexOf("\n", keyOffset - 1) + 1, keyEnd).replace(/\n$/, "");
    const rest = text.slice(keyEnd);
    return (
      text.slice(0, text.lastIndexOf("\n", keyOffset - 1) + 1) +
      line.replace(/:\s*(?:null|~)?\s*(#.*)?$/, (_m, comment?: string) => (comment ? `: ${comment}` : ":")) +
      "\n" +
      body +
      rest
    );
  }
  if (!pair && config.range) {
    const at = lineEnd(text, config.range[1]);
    const prefix = at > 0 && text[at - 1] !== "\n" ? "\n" : "";
    return text.slice(0, at) + prefix + `${" ".repeat(indent)}${MODEL_KEY}:\n` + body + text.slice(at);
  }
  return stringify(withModel(doc, packageArn, kept, artifact));
}

/** The offset just past the end of the line holding `offset` (after its newline, if any). */
function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf("\n", Math.max(0, offset - 1));
  return nl < 0 ? text.length : nl + 1;
}

function renderModel(packageArn: string, previous: readonly string[], indent: string, artifact: Partial<ArtifactPin>): string {
  const lines = [`${indent}packageArn: ${packageArn}`];
  if (artifact.artifactUri && artifact.image) lines.push(`${indent}artifactUri: ${artifact.artifactUri}`, `${indent}image: ${artifact.image}`);
  if (previous.length > 0) lines.push(`${indent}previousPackageArns:`, ...previous.map((a) => `${indent}  - ${a}`));
  return lines.join("\n") + "\n";
}

/** The fallback for unusual layouts (flow-style config, a scalar model value): edit the tree. */
function withModel(doc: Document, packageArn: string, previous: readonly string[], artifact: Partial<ArtifactPin>): Document {
  const pin = artifact.artifactUri && artifact.image ? { packageArn, artifactUri: artifact.artifactUri, image: artifact.image } : { packageArn };
  doc.setIn(["config", MODEL_KEY], doc.createNode(previous.length > 0 ? { ...pin, previousPackageArns: [...previous] } : pin));
  return doc;
}

function stringify(doc: Document): string {
  // lineWidth 0: never fold long ARNs onto a second line.
  return doc.toString({ lineWidth: 0 });
}
