import { PublishBatchCommand, type PublishBatchRequestEntry } from "@aws-sdk/client-sns";
import type { z } from "zod";
import { clients } from "./clients.ts";
import { serializeWithinLimit } from "./sqs.ts";

/** SNS takes at most 10 messages per PublishBatch. */
const batchSize = 10;

/** A topic refused some of a batch: nothing is lost, the caller retries the whole publish. */
export class PublishRefusedError extends Error {
  override readonly name = "PublishRefusedError";
}

/**
 * Publishes typed messages (domain events) to an SNS topic, each checked against its schema, with
 * its `type` as the `type` message attribute: what subscriptions' filter policies select on.
 * Throws unless every message was accepted; publishing again is harmless, as each event's id is
 * stable and consumers drop repeats.
 */
export function topicPublisher<Message extends { id: string; type: string }>(
  topicArn: string,
  schema: z.ZodType<Message>,
) {
  return async (messages: readonly Message[]): Promise<void> => {
    const entries = messages.map((message, index): PublishBatchRequestEntry => {
      const checked = schema.parse(message);
      return {
        Id: String(index),
        Message: serializeWithinLimit(checked),
        MessageAttributes: { type: { DataType: "String", StringValue: checked.type } },
      };
    });
    for (let start = 0; start < entries.length; start += batchSize) {
      const batch = entries.slice(start, start + batchSize);
      const result = await clients
        .sns()
        .send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: batch }));
      if (result.Failed?.length) {
        const codes = [...new Set(result.Failed.map((failure) => failure.Code))].join(", ");
        throw new PublishRefusedError(`SNS refused ${result.Failed.length} of ${batch.length} events (${codes})`);
      }
    }
  };
}
