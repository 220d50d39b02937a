import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { ArnFormat, RemovalPolicy } from "aws-cdk-lib/core";
import type { StackContext } from "sst/constructs";
import { alarmName } from "./monitoring.ts";
import { operationsSettings } from "./settings.ts";

/**
 * Where every alarm of the stage notifies: one SNS topic, encrypted with its own KMS key and
 * TLS-only, with an email subscription when ALARM_EMAIL is set. The alarms themselves live next
 * to what they watch (`monitoring.ts`), so removing a queue or a function removes its alarms too.
 */
export function Alarms({ app, stack }: StackContext) {
  const { alarmEmail } = operationsSettings();
  const cloudWatch = new ServicePrincipal("cloudwatch.amazonaws.com");

  // SNS's AWS-managed key cannot be used by CloudWatch: alarms need a key whose policy lets them in.
  const key = new Key(stack, "alarms-key", {
    description: `Encrypts the notifications of ${app.logicalPrefixedName("alarms")}`,
    enableKeyRotation: true,
    // It only protects notifications in transit: nothing is left to decrypt once the stage is gone.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // No condition keys: the key serves this one topic, and the topic policy below names the alarms.
  key.addToResourcePolicy(
    new PolicyStatement({
      principals: [cloudWatch],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
    }),
  );

  const alarmTopic = new Topic(stack, "alarms", {
    topicName: app.logicalPrefixedName("alarms"),
    masterKey: key,
    enforceSSL: true,
  });
  alarmTopic.addToResourcePolicy(
    new PolicyStatement({
      principals: [cloudWatch],
      actions: ["sns:Publish"],
      resources: [alarmTopic.topicArn],
      conditions: {
        ArnLike: {
          "aws:SourceArn": stack.formatArn({
            service: "cloudwatch",
            resource: "alarm",
            resourceName: alarmName(app, "*"),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
        StringEquals: { "aws:SourceAccount": stack.account },
      },
    }),
  );
  if (alarmEmail) alarmTopic.addSubscription(new EmailSubscription(alarmEmail));

  stack.addOutputs({ AlarmTopicArn: alarmTopic.topicArn });
  return { alarmTopic };
}
