import { vi } from "vitest";
import { PlannedResource, PlanResult, runProgram } from "../../infra/offline/mock-run";

/** Runs infra/index.ts for a stack's real config file under mocks (a fresh module instance each time). */
export function planStack(stack: string, configOverrides: Record<string, unknown> = {}): Promise<PlanResult> {
  return runProgram(stack, async () => {
    vi.resetModules();
    return (await import("../../infra/index.js")) as Record<string, unknown>;
  }, configOverrides);
}

export const ofType = (plan: PlanResult, type: string): PlannedResource[] => plan.resources.filter((r) => r.type === type);

export function one(plan: PlanResult, type: string): PlannedResource {
  const found = ofType(plan, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0];
}

/** Parses a JSON policy input (stored as a string by the components). */
export const json = (value: unknown) => (typeof value === "string" ? JSON.parse(value) : value);
