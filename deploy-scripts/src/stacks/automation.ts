import type * as automation from "@pulumi/pulumi/automation";
import type { ChangeSummary, RunOptions, StackGateway } from "./gateway";

/**
 * The Automation API behind `StackGateway`: the same project, stack files and backend as
 * `pulumi up --stack <name>` run at the repository root. `@pulumi/pulumi/automation` is loaded
 * lazily: it is large, and `--help` or a command that never touches Pulumi should not pay for it.
 */
export class AutomationStackGateway implements StackGateway {
  /** `policyPacks`: directories of policy packs every preview and update runs besides the stack's own (`ML_DEPLOY_POLICY_PACKS`). */
  constructor(
    private readonly workDir: string,
    private readonly policyPacks: readonly string[] = [],
  ) {}

  private async select(stackName: string, env: Readonly<Record<string, string>> = {}) {
    const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof automation;
    return LocalWorkspace.selectStack({ stackName, workDir: this.workDir }, { envVars: { ...env } });
  }

  async outputs(stack: string): Promise<Record<string, unknown>> {
    const map = await (await this.select(stack)).outputs();
    return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, (v as automation.OutputValue).value]));
  }

  async preview(stack: string, opts: RunOptions = {}): Promise<ChangeSummary> {
    const result = await (await this.select(stack, opts.env)).preview({ diff: true, color: "never", ...this.runOptions(opts) });
    return { ...result.changeSummary } as ChangeSummary;
  }

  async up(stack: string, opts: RunOptions = {}): Promise<ChangeSummary> {
    const result = await (await this.select(stack, opts.env)).up({ color: "never", ...this.runOptions(opts) });
    return { ...(result.summary.resourceChanges ?? {}) } as ChangeSummary;
  }

  private runOptions(opts: RunOptions) {
    return {
      onOutput: opts.onOutput,
      signal: opts.signal,
      // The stack's own packs first: --policy-pack-config pairs with --policy-pack by position.
      policyPacks: [...(opts.policyPacks ?? []), ...this.policyPacks],
      policyPackConfigs: opts.policyPackConfigs?.length ? [...opts.policyPackConfigs] : undefined,
    };
  }
}
