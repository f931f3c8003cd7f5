import type { ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

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

/**
 * `validateResourceOfType` by type token: runs `validate` on resources of `type` with their props
 * typed, and reports every other resource not applicable, as the SDK helper does for a class.
 */
export function validateResourceOfType<TProps>(
  type: string,
  validate: (props: TProps, args: ResourceValidationArgs, reportViolation: ReportViolation) => void,
): ResourceValidation {
  const fn = (args: ResourceValidationArgs, reportViolation: ReportViolation) =>
    args.type === type ? validate(args.props as TProps, args, reportViolation) : args.notApplicable(`Policy only applies to resources of type '${type}'`);
  // The policy SDK skips a validation whose function carries the type it applies to without calling it.
  return Object.assign(fn, { __pulumiType: type });
}
