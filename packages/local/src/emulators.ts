import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
  type Subscription,
  UnsubscribeCommand,
} from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  domainEventTopic,
  type QueueDefinition,
  type QueueName,
  queues,
  type SubscriptionDefinition,
  subscriptions,
} from "@leadflow/manifest";
import { createTableInput } from "@leadflow/store";
import dynalite from "dynalite";
import { startFauxqs } from "fauxqs";
import { localRegion, queueNamePrefix } from "./development.ts";

/** Emulators listen on loopback only. */
const host = "127.0.0.1";
export const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** DynamoDB (dynalite): in memory, or LevelDB files under `dataDir`. */
export async function startDynamo(dataDir?: string): Promise<Emulator> {
  const server = dynalite({
    ...(dataDir ? { path: join(dataDir, "dynamodb") } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, host, resolve));
  return { endpoint: `http://${host}:${(server.address() as AddressInfo).port}`, stop: () => close(server) };
}

/** SQS and SNS (fauxqs, one endpoint for both): in memory, or SQLite under `dataDir`. */
export async function startSqs(dataDir?: string): Promise<Emulator> {
  const server = await startFauxqs({
    port: 0,
    logger: false,
    defaultRegion: localRegion,
    ...(dataDir ? { dataDir: join(dataDir, "sqs") } : {}),
  });
  return { endpoint: `http://${host}:${server.port}`, stop: () => server.stop() };
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: localRegion, credentials: localCredentials });
}

export function snsClient(endpoint: string): SNSClient {
  return new SNSClient({ endpoint, region: localRegion, credentials: localCredentials });
}

/** Creates the table (and its indexes) from the definition the stack deploys, unless it exists. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  }
  while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== "ACTIVE") {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface QueueLocation {
  url: string;
  arn: string;
  deadLetterUrl: string;
}

/** Creates every queue of the manifest with its DLQ and redrive policy, as the stack deploys them. */
export async function ensureQueues(client: SQSClient): Promise<Record<QueueName, QueueLocation>> {
  const entries = await Promise.all(
    (Object.entries(queues) as [QueueName, QueueDefinition][]).map(async ([name, definition]) => {
      const deadLetter = await ensureQueue(client, `${queueNamePrefix}${name}-dlq`, {
        MessageRetentionPeriod: String(definition.deadLetterRetentionSeconds),
      });
      const main = await ensureQueue(client, `${queueNamePrefix}${name}`, {
        VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(definition.retentionSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetter.arn,
          maxReceiveCount: definition.maxReceiveCount,
        }),
      });
      return [name, { url: main.url, arn: main.arn, deadLetterUrl: deadLetter.url }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, QueueLocation>;
}

async function ensureQueue(client: SQSClient, name: string, attributes: Record<string, string>) {
  let url = await existingQueueUrl(client, name);
  if (url) {
    // Kept from an earlier run (--data), perhaps with other attributes (--fast): bring them up to date.
    await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  } else {
    url = (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl as string;
  }
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return { url, arn: Attributes?.QueueArn as string };
}

async function existingQueueUrl(client: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (error instanceof QueueDoesNotExist) return undefined;
    throw error;
  }
}

/**
 * Creates the domain-event topic and subscribes each queue of the manifest's `subscriptions` to
 * it, as the stack deploys them: raw message delivery, a filter policy on the `type` attribute.
 * Kept from an earlier run (--data), subscriptions are brought up to date and those the manifest
 * no longer lists removed. Returns the topic's ARN.
 */
export async function ensureEventTopic(
  client: SNSClient,
  queueLocations: Record<QueueName, QueueLocation>,
): Promise<string> {
  const { TopicArn } = await client.send(new CreateTopicCommand({ Name: `${queueNamePrefix}${domainEventTopic}` }));
  const topicArn = TopicArn as string;
  const existing = await topicSubscriptions(client, topicArn);
  const wanted = new Map(
    (Object.entries(subscriptions) as [QueueName, SubscriptionDefinition][]).map(([queue, subscription]) => [
      queueLocations[queue].arn,
      subscriptionAttributes(subscription),
    ]),
  );
  for (const subscription of existing) {
    const attributes = wanted.get(subscription.Endpoint ?? "");
    if (!attributes) {
      await client.send(new UnsubscribeCommand({ SubscriptionArn: subscription.SubscriptionArn }));
      continue;
    }
    wanted.delete(subscription.Endpoint as string);
    for (const [AttributeName, AttributeValue] of Object.entries(attributes)) {
      await client.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: subscription.SubscriptionArn,
          AttributeName,
          AttributeValue,
        }),
      );
    }
  }
  for (const [queueArn, attributes] of wanted) {
    await client.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queueArn, Attributes: attributes }),
    );
  }
  return topicArn;
}

/** What a subscription is created with, here and in the stack: raw delivery, filtered on `type`. */
export function subscriptionAttributes(subscription: SubscriptionDefinition): Record<string, string> {
  return {
    RawMessageDelivery: "true",
    FilterPolicy: JSON.stringify({ type: [...subscription.eventTypes] }),
  };
}

async function topicSubscriptions(client: SNSClient, topicArn: string): Promise<Subscription[]> {
  const found: Subscription[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
    found.push(...(page.Subscriptions ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
