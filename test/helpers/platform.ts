import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { PlannedResource, PlanResult, PROJECT_NAME, runProgram } from "../../infra/offline/mock-run";

/** A plan plus what each resource's SDK class declared itself: the `replaceOnChanges` it set, by URN. */
export interface Plan extends PlanResult {
  readonly replaceOnChanges: ReadonlyMap<string, readonly string[]>;
}

/**
 * Runs infra/index.ts for a stack's real config file under mocks (a fresh module instance each time).
 * `stackOutputs`: what stack references read, by stack name (e.g. this stack's previous outputs).
 */
export async function planStack(stack: string, configOverrides: Record<string, unknown> = {}, stackOutputs: Record<string, Record<string, unknown>> = {}): Promise<Plan> {
  const replaceOnChanges = new Map<string, string[]>();
  const plan = await runProgram(stack, async () => {
    // Resource constructors hand their merged options (including what a generated SDK class adds,
    // such as aws-native's replaceOnChanges) to stack transformations: record them.
    pulumi.runtime.registerStackTransformation((t) => {
      const declared = t.opts.replaceOnChanges;
      if (declared?.length) replaceOnChanges.set(`urn:pulumi:${stack}::${PROJECT_NAME}::${t.type}::${t.name}`, [...declared]);
      return undefined;
    });
    vi.resetModules();
    return (await import("../../infra/index.js")) as Record<string, unknown>;
  }, configOverrides, stackOutputs);
  return { ...plan, replaceOnChanges };
}

export const ofType = (plan: PlanResult, type: string): PlannedResource[] => plan.resources.filter((r) => r.type === type);

export function one(plan: PlanResult, type: string): PlannedResource {
  const found = ofType(plan, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0];
}

/** Parses a JSON policy input (stored as a string by the components). */
export const json = (value: unknown) => (typeof value === "string" ? JSON.parse(value) : value);
