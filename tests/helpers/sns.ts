import { randomUUID } from "node:crypto";
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { subscriptionAttributes } from "@leadflow/local";
import type { TestQueue } from "./sqs.ts";

/** A topic of its own for one test file. */
export async function freshTopic(client: SNSClient): Promise<string> {
  const { TopicArn } = await client.send(new CreateTopicCommand({ Name: `test-${randomUUID().slice(0, 8)}` }));
  return TopicArn as string;
}

/** Subscribes the queue to the event types, as the stack and `npm start` subscribe theirs. */
export async function subscribeQueue(
  client: SNSClient,
  topicArn: string,
  queue: TestQueue,
  eventTypes: readonly string[],
): Promise<void> {
  await client.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: queue.arn,
      Attributes: subscriptionAttributes({ eventTypes }),
    }),
  );
}
