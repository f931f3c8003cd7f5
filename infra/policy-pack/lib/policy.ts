import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

/** A control a rule implements, by the ID its framework gives it. */
export interface ControlRef {
  /** "Security Hub" (AWS Foundational Security Best Practices / CSPM controls) or "checkov". */
  readonly framework: "Security Hub" | "checkov";
  readonly id: string;
  /** How the rule relates to the control, when it is not a plain implementation of it. */
  readonly note?: string;
}

/** A pack policy plus the controls it implements (kept in code, so the README table is tested). */
export type PlatformPolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  readonly controls: readonly ControlRef[];
};

export const securityHub = (id: string, note?: string): ControlRef => ({ framework: "Security Hub", id, ...(note ? { note } : {}) });
export const checkov = (id: string, note?: string): ControlRef => ({ framework: "checkov", id, ...(note ? { note } : {}) });

/** Policy tags: the control IDs, so Pulumi Cloud can filter violations by them. */
export const controlTags = (controls: readonly ControlRef[]) => controls.map((c) => c.id);
