import {
  type ConsumerDefinition,
  consumedQueues,
  consumers,
  domainEventTopic,
  type QueueDefinition,
  type QueueName,
  queues,
  type SubscriptionDefinition,
  subscriptions,
} from "@leadflow/manifest";
import { Alias } from "aws-cdk-lib/aws-kms";
import { SubscriptionFilter, Topic } from "aws-cdk-lib/aws-sns";
import { SqsSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { QueueEncryption, type QueueProps } from "aws-cdk-lib/aws-sqs";
import { Duration } from "aws-cdk-lib/core";
import { Function as LambdaFunction, Queue, type StackContext, use } from "sst/constructs";
import { Alarms } from "./Alarms.ts";
import { type FunctionResources, functionProps, type MessageQueue } from "./functions.ts";
import { alarmOnDeadLetters, alarmOnFunctionFailures, alarmOnOldestMessage } from "./monitoring.ts";
import { suppressFunctionFindings } from "./nag.ts";
import { Secrets } from "./Secrets.ts";
import { Storage } from "./Storage.ts";

/**
 * Every manifest queue with its dead-letter queue, the domain-event topic with the manifest's
 * subscriptions, and every consumer with its event source. Alarms: a message in any DLQ; a
 * consumed queue's oldest message waiting too long; each consumer's errors and throttles.
 */
export function Messaging({ app, stack }: StackContext) {
  const { table } = use(Storage);
  const { secrets, sourceSecrets } = use(Secrets);
  const { alarmTopic } = use(Alarms);

  const messageQueues = {} as Record<QueueName, MessageQueue>;
  for (const [name, definition] of Object.entries(queues) as [QueueName, QueueDefinition][]) {
    messageQueues[name] = messageQueue(stack, name, definition);
    alarmOnDeadLetters(stack, name, messageQueues[name], alarmTopic);
  }
  // The other queues have no consumer in this release: their messages wait by design.
  for (const name of consumedQueues) alarmOnOldestMessage(stack, name, messageQueues[name], alarmTopic);
  const domainEvents = domainEventsTopic(stack, app.logicalPrefixedName(domainEventTopic), messageQueues);

  const resources: FunctionResources = {
    table,
    queues: messageQueues,
    domainEventTopic: domainEvents,
    secrets,
    sourceSecrets,
  };
  for (const [name, definition] of Object.entries(consumers) as [string, ConsumerDefinition][]) {
    const consumer = new LambdaFunction(stack, name, functionProps(stack, name, definition, resources));
    messageQueues[definition.queue].queue.addConsumer(stack, {
      cdk: {
        function: consumer,
        eventSource: { batchSize: definition.batchSize, reportBatchItemFailures: true },
      },
    });
    suppressFunctionFindings(consumer, definition, table);
    alarmOnFunctionFailures(stack, name, consumer, alarmTopic);
  }

  stack.addOutputs({ DomainEventTopicArn: domainEvents.topicArn });
  return { queues: messageQueues, domainEventTopic: domainEvents };
}

/**
 * The one topic domain events are published to, with a `type` message attribute. Each queue of
 * the manifest's `subscriptions` receives the types it lists (a filter policy), as the event's
 * JSON (raw delivery); what SNS cannot deliver goes to that queue's DLQ. Encrypted with SNS's
 * AWS-managed key, which lets every publisher of the account that may `sns:Publish` use it: the
 * functions need no KMS grant. TLS only.
 */
function domainEventsTopic(
  stack: StackContext["stack"],
  topicName: string,
  messageQueues: Record<QueueName, MessageQueue>,
): Topic {
  const topic = new Topic(stack, "domain-events", {
    topicName,
    masterKey: Alias.fromAliasName(stack, "domain-events-key", "alias/aws/sns"),
    enforceSSL: true,
  });
  for (const [name, subscription] of Object.entries(subscriptions) as [QueueName, SubscriptionDefinition][]) {
    const { queue, deadLetter } = messageQueues[name];
    topic.addSubscription(
      new SqsSubscription(queue.cdk.queue, {
        rawMessageDelivery: true,
        filterPolicy: { type: SubscriptionFilter.stringFilter({ allowlist: [...subscription.eventTypes] }) },
        deadLetterQueue: deadLetter.cdk.queue,
      }),
    );
  }
  return topic;
}

function messageQueue(stack: StackContext["stack"], name: QueueName, definition: QueueDefinition): MessageQueue {
  const common = { enforceSSL: true, encryption: QueueEncryption.SQS_MANAGED } satisfies QueueProps;
  const deadLetter = new Queue(stack, `${name}-dlq`, {
    cdk: { queue: { ...common, retentionPeriod: Duration.seconds(definition.deadLetterRetentionSeconds) } },
  });
  const queue = new Queue(stack, name, {
    cdk: {
      queue: {
        ...common,
        retentionPeriod: Duration.seconds(definition.retentionSeconds),
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetter.cdk.queue, maxReceiveCount: definition.maxReceiveCount },
      },
    },
  });
  return { queue, deadLetter };
}
