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
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Alias, Key } from "aws-cdk-lib/aws-kms";
import { ConfigurationSet, EmailSendingEvent, EventDestination } from "aws-cdk-lib/aws-ses";
import { SubscriptionFilter, Topic } from "aws-cdk-lib/aws-sns";
import { SqsSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { QueueEncryption, type QueueProps } from "aws-cdk-lib/aws-sqs";
import { Duration, RemovalPolicy } from "aws-cdk-lib/core";
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
  const { configurationSet, topic: sesEvents } = emailEvents(stack, app, messageQueues.deliverability);

  const resources: FunctionResources = {
    table,
    queues: messageQueues,
    domainEventTopic: domainEvents,
    secrets,
    sourceSecrets,
    emailConfigurationSetName: configurationSet.configurationSetName,
  };
  for (const [name, definition] of Object.entries(consumers) as [string, ConsumerDefinition][]) {
    // A consumer named like its queue (nurture, deliverability) needs an id of its own in the stack.
    const id = name in queues ? `${name}-consumer` : name;
    const consumer = new LambdaFunction(stack, id, functionProps(stack, id, definition, resources));
    messageQueues[definition.queue].queue.addConsumer(stack, {
      cdk: {
        function: consumer,
        eventSource: { batchSize: definition.batchSize, reportBatchItemFailures: true },
      },
    });
    suppressFunctionFindings(consumer, definition, table);
    alarmOnFunctionFailures(stack, name, consumer, alarmTopic);
  }

  stack.addOutputs({
    DomainEventTopicArn: domainEvents.topicArn,
    SesConfigurationSet: configurationSet.configurationSetName,
    SesEventsTopicArn: sesEvents.topicArn,
  });
  return { queues: messageQueues, domainEventTopic: domainEvents };
}

/** The SES events leadflow acts on (functions/nurture/ses-events.ts). */
const publishedEmailEvents = [
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.OPEN,
  EmailSendingEvent.CLICK,
];

/**
 * The SES configuration set every email is sent with (SES_CONFIGURATION_SET on the outbound
 * consumer): it publishes bounces, complaints, opens and clicks to an SNS topic of their own, to
 * which the `deliverability` queue is subscribed with raw delivery (the body is SES's event JSON),
 * what SNS cannot deliver going to that queue's DLQ. The topic is encrypted with a key of its own,
 * since SES cannot use SNS's AWS-managed key; CDK's event destination lets only this account's
 * configuration set publish to it (topic policy). TLS only.
 */
function emailEvents(stack: StackContext["stack"], app: StackContext["app"], queue: MessageQueue) {
  const ses = new ServicePrincipal("ses.amazonaws.com");
  const key = new Key(stack, "ses-events-key", {
    description: `Encrypts ${app.logicalPrefixedName("ses-events")}`,
    enableKeyRotation: true,
    // It only protects events in transit to the queue: nothing is left to decrypt once the stage is gone.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  key.addToResourcePolicy(
    new PolicyStatement({
      principals: [ses],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
      conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
    }),
  );
  const topic = new Topic(stack, "ses-events", {
    topicName: app.logicalPrefixedName("ses-events"),
    masterKey: key,
    enforceSSL: true,
  });
  topic.addSubscription(
    new SqsSubscription(queue.queue.cdk.queue, {
      rawMessageDelivery: true,
      deadLetterQueue: queue.deadLetter.cdk.queue,
    }),
  );
  const configurationSet = new ConfigurationSet(stack, "email", {
    configurationSetName: app.logicalPrefixedName("email"),
  });
  configurationSet.addEventDestination("ses-events", {
    destination: EventDestination.snsTopic(topic),
    events: publishedEmailEvents,
  });
  return { configurationSet, topic };
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
