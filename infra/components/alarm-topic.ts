import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmTopicArgs {
  /** Key the topic's messages are encrypted with at rest. */
  readonly kmsKey: aws.kms.Key;
  /** E-mail addresses to subscribe (each must confirm by e-mail). @default - none */
  readonly emails?: readonly string[];
}

/** The SNS topic the platform's alarms notify, encrypted with the platform key. */
export class AlarmTopic extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;

  constructor(name: string, args: AlarmTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlplatform:monitoring:AlarmTopic", name, {}, opts);
    this.topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: args.kmsKey.arn }, { parent: this });
    (args.emails ?? []).forEach((endpoint, i) => {
      new aws.sns.TopicSubscription(`${name}-email-${i}`, { topic: this.topic.arn, protocol: "email", endpoint }, { parent: this });
    });
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
