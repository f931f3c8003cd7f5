import { Command, Option } from "commander";
import { action, stackOption, withCommon, type CommandFactory } from "../cli";
import { DEFAULT_DOCKERFILE, DEFAULT_HASH_PATHS, DEFAULT_REPOSITORY, images, type ImagesResult } from "../images/build";
import { formatFields } from "../output";

export function formatImages(r: ImagesResult): string {
  return formatFields([
    ["image", r.imageUri],
    ["tag", r.tag],
    ["base image", r.baseImage],
    ["built", r.built ? "yes" : "no (already in ECR)"],
    ["pipeline image", r.pipelineImagePinned ? "pinned in the stack file (apply with `pulumi up`)" : "unchanged"],
  ]);
}

export const imagesCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("images")
      .description("Build the ml-core image and push it to the stack's ECR repository, tagged by a hash of its sources; prints the image by digest")
      .addOption(stackOption())
      .addOption(new Option("--repository <name>", "key of the stack's repositoryUrls output").default(DEFAULT_REPOSITORY))
      .addOption(new Option("--dockerfile <path>", "Dockerfile, relative to the repository root").default(DEFAULT_DOCKERFILE))
      .addOption(new Option("--context <path>", "build context, relative to the repository root").default("."))
      .addOption(new Option("--hash-path <path...>", "paths whose contents make the tag").default(DEFAULT_HASH_PATHS))
      .addOption(new Option("--platform <platform>", "target platform of the image (SageMaker runs linux/amd64)").default("linux/amd64")),
  ).action(action(deps, images, formatImages));
