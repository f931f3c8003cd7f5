import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ModelRegistryArgs {
  /** The model's short name; the group's description names it. */
  readonly modelName: string;
}

/** A SageMaker model package group: the versioned, approvable history of one model in this stack. */
export class ModelRegistry extends pulumi.ComponentResource {
  readonly group: aws.sagemaker.ModelPackageGroup;
  readonly groupName: pulumi.Output<string>;

  constructor(name: string, args: ModelRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:registry:ModelRegistry", name, {}, opts);
    // The group name must be set (the API requires it); a stack-unique prefix keeps stacks sharing
    // an account apart, and `ml-deploy` finds it through the stack output, never by guessing.
    this.group = new aws.sagemaker.ModelPackageGroup(
      `${name}-group`,
      {
        modelPackageGroupName: `${args.modelName}-${pulumi.getStack()}`,
        modelPackageGroupDescription: `Versions of the ${args.modelName} model registered by ml-platform (${pulumi.getStack()})`,
      },
      { parent: this, retainOnDelete: opts?.retainOnDelete },
    );
    this.groupName = this.group.modelPackageGroupName;
    this.registerOutputs({ groupName: this.groupName });
  }
}
