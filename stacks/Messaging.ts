import {
  type ConsumerDefinition,
  consumedQueues,
  consumers,
  type QueueDefinition,
  type QueueName,
  queues,
} from "@leadflow/manifest";
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
 * Every manifest queue with its dead-letter queue, and every consumer with its event source.
 * Alarms: a message in any DLQ; a consumed queue's oldest message waiting too long; each consumer's
 * errors and throttles.
 */
export function Messaging({ stack }: StackContext) {
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

  const resources: FunctionResources = { table, queues: messageQueues, secrets, sourceSecrets };
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

  return { queues: messageQueues };
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
