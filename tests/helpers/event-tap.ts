import { randomUUID } from "node:crypto";
import { SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { type DomainEvent, DomainEventSchema } from "@leadflow/core";
import { snsClient, sqsClient } from "@leadflow/local";

/**
 * A queue of the test's own, subscribed to a stack's domain-event topic as the manifest's
 * consumers are (raw delivery), so a test sees every event without taking it from a consumer.
 */
export async function eventTap(sqsEndpoint: string, topicArn: string) {
  const sqs = sqsClient(sqsEndpoint);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `tap-${randomUUID()}` }));
  const queueUrl = QueueUrl as string;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  await snsClient(sqsEndpoint).send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: "true" },
    }),
  );
  const seen: { event: DomainEvent; type: string | undefined }[] = [];

  /** Reads what arrived since the last call (each message the raw event, with its type attribute). */
  async function collect(waitSeconds = 1): Promise<void> {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ["type"],
        }),
      );
      if (Messages.length === 0) return;
      for (const message of Messages) {
        const event = DomainEventSchema.parse(JSON.parse(message.Body as string));
        seen.push({ event, type: message.MessageAttributes?.type?.StringValue });
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
  }

  return {
    /** Every event seen so far, after reading what has arrived. */
    async all() {
      await collect();
      return [...seen];
    },
    /** The lead's distinct events (by id), once `count` have arrived or `timeoutMs` has passed. */
    async eventsFor(leadId: string, count: number, timeoutMs = 30_000): Promise<DomainEvent[]> {
      const deadline = Date.now() + timeoutMs;
      const ours = () =>
        new Map(seen.filter(({ event }) => event.leadId === leadId).map(({ event }) => [event.id, event]));
      while (ours().size < count && Date.now() < deadline) await collect();
      for (const { event, type } of seen) {
        if (type !== event.type) throw new Error(`Event ${event.id} came with the type attribute ${type}`);
      }
      return [...ours().values()];
    },
  };
}
