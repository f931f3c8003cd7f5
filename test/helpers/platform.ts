import { vi } from "vitest";
import { PlannedResource, PlanResult, runProgram } from "../../infra/offline/mock-run";

/** A plan plus what each resource's SDK class declared itself: the `replaceOnChanges` it set, by URN. */
export interface Plan extends PlanResult {
  readonly replaceOnChanges: ReadonlyMap<string, readonly string[]>;
}

/**
 * Runs infra/index.ts for a stack's real config file under mocks (a fresh module instance each time).
 * `stackOutputs`: what stack references read, by stack name (e.g. this stack's previous outputs).
 */
export async function planStack(
  stack: string,
  configOverrides: Record<string, unknown> = {},
  stackOutputs: Record<string, Record<string, unknown>> = {},
): Promise<Plan> {
  const plan = await runProgram(
    stack,
    async () => {
      vi.resetModules();
      return (await import("../../infra/index.js")) as Record<string, unknown>;
    },
    configOverrides,
    stackOutputs,
  );
  // The runner records each resource's merged options, including what a generated SDK class adds
  // itself (aws-native's replaceOnChanges).
  const replaceOnChanges = new Map(
    plan.resources.filter((r) => r.options.replaceOnChanges?.length).map((r) => [r.urn, [...r.options.replaceOnChanges!]] as const),
  );
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
