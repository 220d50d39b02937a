import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { toSqsRecord } from "@leadflow/local";
import type { SQSEvent } from "aws-lambda";

export interface TestQueue {
  url: string;
  arn: string;
}

export async function freshQueue(client: SQSClient, attributes: Record<string, string> = {}): Promise<TestQueue> {
  const name = `test-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: QueueUrl as string, arn: Attributes?.QueueArn as string };
}

/** Sends bodies to the queue and receives them back as the SQS event Lambda would get. */
export async function deliverAsEvent(
  client: SQSClient,
  queue: TestQueue,
  bodies: readonly unknown[],
): Promise<SQSEvent> {
  for (const body of bodies) {
    await client.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  }
  return receiveAsEvent(client, queue, bodies.length);
}

export async function receiveAsEvent(
  client: SQSClient,
  queue: TestQueue,
  count: number,
  waitSeconds = 5,
): Promise<SQSEvent> {
  const messages: Message[] = [];
  const deadline = Date.now() + waitSeconds * 1000;
  while (messages.length < count && Date.now() < deadline) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(10, count - messages.length),
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    messages.push(...Messages);
  }
  return { Records: messages.map((message) => toSqsRecord(message, queue.arn)) };
}

export async function queueCounts(client: SQSClient, queue: TestQueue) {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
