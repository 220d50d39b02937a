import { dynamoClient, snsClient, sqsClient } from "@leadflow/local";
import { subscriptions } from "@leadflow/manifest";
import { createLeadStore } from "@leadflow/store";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { inject } from "vitest";
import { freshTopic, subscribeQueue } from "./sns.ts";
import { freshQueue } from "./sqs.ts";
import { freshTable } from "./tables.ts";

/** What a queue consumer needs in its environment to run against the integration emulators. */
export function consumerEnvironment(queues: {
  tableName: string;
  queueUrl: string;
  deadLetterUrl: string;
  domainEventTopicArn: string;
}): Record<string, string> {
  const emulators = inject("emulators");
  return {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb[0]?.endpoint as string,
    AWS_ENDPOINT_URL_SQS: emulators.sqs,
    AWS_ENDPOINT_URL_SNS: emulators.sqs,
    TABLE_NAME: queues.tableName,
    QUEUE_URL: queues.queueUrl,
    DEAD_LETTER_QUEUE_URL: queues.deadLetterUrl,
    DOMAIN_EVENTS_TOPIC_ARN: queues.domainEventTopicArn,
    MAX_RECEIVE_COUNT: "3",
    RETRY_BASE_SECONDS: "20",
    LEADFLOW_CONFIG_DIR: "config",
    POWERTOOLS_LOG_LEVEL: "SILENT",
  };
}

type ConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A Lambda context good enough for queue consumers. */
export const consumerContext = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as Context;

/**
 * A queue consumer's handler (`functions/...`) running against the integration emulators, with
 * its own table, queue, dead-letter queue and domain-event topic, to which a qualified queue of
 * its own is subscribed as the manifest says, and `environment` on top.
 */
export async function consumerUnderTest(
  handlerFile: string,
  options: { queueAttributes?: Record<string, string>; environment?: Record<string, string> } = {},
) {
  const sqs = sqsClient(inject("emulators").sqs);
  const sns = snsClient(inject("emulators").sqs);
  const [queue, deadLetters, qualified, topicArn] = await Promise.all([
    freshQueue(sqs, options.queueAttributes),
    freshQueue(sqs),
    freshQueue(sqs),
    freshTopic(sns),
  ]);
  await subscribeQueue(sns, topicArn, qualified, subscriptions.qualified.eventTypes);
  const dynamo = dynamoClient(inject("emulators").dynamodb[0]?.endpoint as string);
  const tableName = await freshTable(dynamo);
  Object.assign(
    process.env,
    consumerEnvironment({
      tableName,
      queueUrl: queue.url,
      deadLetterUrl: deadLetters.url,
      domainEventTopicArn: topicArn,
    }),
    options.environment,
  );
  const { handler } = (await import(`../../${handlerFile}`)) as { handler: ConsumerHandler };
  return { handler, store: createLeadStore({ client: dynamo, tableName }), sqs, queue, deadLetters, qualified };
}
