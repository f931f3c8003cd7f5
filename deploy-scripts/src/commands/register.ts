import { Command, Option } from "commander";
import { action, stackOption, withCommon, type CommandFactory } from "../cli";
import { formatVersion } from "../registry/model-version";
import { register, type RegisterResult } from "../registry/register";

export function formatRegister(r: RegisterResult): string {
  return [
    r.created ? `registered version ${r.version.version}` : `already registered as version ${r.version.version}`,
    formatVersion(r.version),
    `next: ml-deploy approve --stack ${r.stack} --version ${r.version.version} --reason "<why>"`,
  ].join("\n");
}

export const registerCommand: CommandFactory = (deps) =>
  withCommon(
    new Command("register")
      .description("Register a completed training job as a model version (pending approval) in the stack's model package group; idempotent per job")
      .addOption(stackOption())
      .addOption(new Option("--job <name>", "the training job's name").makeOptionMandatory()),
  ).action(action(deps, register, formatRegister));
