import { type ConsumerDefinition, consumers, type QueueDefinition, type QueueName, queues } from "@leadflow/manifest";
import { QueueEncryption, type QueueProps } from "aws-cdk-lib/aws-sqs";
import { Duration } from "aws-cdk-lib/core";
import { Function as LambdaFunction, Queue, type StackContext, use } from "sst/constructs";
import { type FunctionResources, functionProps, type MessageQueue } from "./functions.ts";
import { suppressFunctionFindings } from "./nag.ts";
import { Secrets } from "./Secrets.ts";
import { Storage } from "./Storage.ts";

/** Every manifest queue with its dead-letter queue, and every consumer with its event source. */
export function Messaging({ stack }: StackContext) {
  const { table } = use(Storage);
  const { secrets } = use(Secrets);

  const messageQueues = {} as Record<QueueName, MessageQueue>;
  for (const [name, definition] of Object.entries(queues) as [QueueName, QueueDefinition][]) {
    messageQueues[name] = messageQueue(stack, name, definition);
  }

  const resources: FunctionResources = { table, queues: messageQueues, secrets };
  for (const [name, definition] of Object.entries(consumers) as [string, ConsumerDefinition][]) {
    const consumer = new LambdaFunction(stack, name, functionProps(definition, resources));
    messageQueues[definition.queue].queue.addConsumer(stack, {
      cdk: {
        function: consumer,
        eventSource: { batchSize: definition.batchSize, reportBatchItemFailures: true },
      },
    });
    suppressFunctionFindings(consumer, definition, table);
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
