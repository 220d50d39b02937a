import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { LeadflowError, PayloadTooLargeError } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ZodError, type z } from "zod";
import { clients } from "./clients.ts";
import { logger } from "./logger.ts";
import { requiredSetting } from "./settings.ts";

/** A message that no retry can fix: not JSON, or not the shape the consumer expects. */
export class PoisonMessageError extends Error {
  override readonly name = "PoisonMessageError";
}

const maxVisibilitySeconds = 12 * 60 * 60;

export interface QueueConsumerOptions<Message> {
  schema: z.ZodType<Message>;
  handle: (message: Message, record: SQSRecord) => Promise<void>;
}

/**
 * An SQS consumer with partial batch failures (Powertools). A failing record is retried with
 * exponential backoff; a record that can never succeed, or that fails its last allowed attempt,
 * is sent to the dead-letter queue with the reason as message attributes, then acknowledged.
 */
export function queueConsumer<Message>({ schema, handle }: QueueConsumerOptions<Message>) {
  const policy = {
    queueUrl: requiredSetting(environmentNames.ownQueueUrl),
    deadLetterUrl: requiredSetting(environmentNames.deadLetterUrl),
    maxReceiveCount: Number(requiredSetting(environmentNames.maxReceiveCount)),
    retryBaseSeconds: Number(requiredSetting(environmentNames.retryBaseSeconds)),
  };

  async function processRecord(record: SQSRecord): Promise<void> {
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    try {
      await handle(parseMessage(record.body, schema), record);
    } catch (error) {
      if (isPermanent(error) || attempt >= policy.maxReceiveCount) {
        await deadLetter(record, error, attempt);
        return;
      }
      const delaySeconds = Math.min(policy.retryBaseSeconds * 2 ** (attempt - 1), maxVisibilitySeconds);
      logger.warn("Message failed; will retry", {
        messageId: record.messageId,
        attempt,
        delaySeconds,
        reason: describe(error),
      });
      await postponeRetry(record, delaySeconds);
      throw error;
    }
  }

  async function deadLetter(record: SQSRecord, error: unknown, attempt: number): Promise<void> {
    logger.error("Message dead-lettered", { messageId: record.messageId, attempt, reason: describe(error) });
    await clients.sqs().send(
      new SendMessageCommand({
        QueueUrl: policy.deadLetterUrl,
        MessageBody: record.body,
        MessageAttributes: failureAttributes(record, error, attempt),
      }),
    );
  }

  async function postponeRetry(record: SQSRecord, delaySeconds: number): Promise<void> {
    const command = new ChangeMessageVisibilityCommand({
      QueueUrl: policy.queueUrl,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: Math.max(1, Math.round(delaySeconds)),
    });
    await clients
      .sqs()
      .send(command)
      .catch((error: unknown) => logger.warn("Could not postpone the retry", { reason: describe(error) }));
  }

  return middy<SQSEvent, SQSBatchResponse>().handler((event, context) =>
    // A processor per invocation: it keeps the batch's failures on itself, and invocations may
    // overlap (the local runtime's pollers share one process, as could any non-Lambda host).
    // A batch where every record failed is still a partial response: each failure was logged.
    processPartialResponse(event, processRecord, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    }),
  );
}

function parseMessage<Message>(body: string, schema: z.ZodType<Message>): Message {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError("The message body is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new PoisonMessageError(`The message does not match its schema (${paths.join("; ")})`);
  }
  return parsed.data;
}

/** Client-caused, malformed, or declared `permanent` by the error itself: retrying gives the same answer. */
function isPermanent(error: unknown): boolean {
  if (error instanceof PoisonMessageError || error instanceof LeadflowError || error instanceof ZodError) return true;
  return (error as { permanent?: unknown } | null)?.permanent === true;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function failureAttributes(record: SQSRecord, error: unknown, attempt: number): Record<string, MessageAttributeValue> {
  const code = error instanceof LeadflowError ? error.code : error instanceof Error ? error.name : "Error";
  const attribute = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });
  return {
    "leadflow.error.code": attribute(code),
    "leadflow.error.message": attribute(describe(error).slice(0, 1024)),
    "leadflow.attempts": { DataType: "Number", StringValue: String(attempt) },
    "leadflow.source-queue": attribute(record.eventSourceARN),
    "leadflow.failed-at": attribute(new Date().toISOString()),
  };
}

/** SQS's classic message limit: the one every queue honours, whatever its MaximumMessageSize. */
const maxMessageBytes = 256 * 1024;

/**
 * Sends messages to a queue (batches of 10). Throws unless every message was accepted; a message
 * over the SQS limit is the sender's input being too large (413), refused before anything is sent.
 */
export function queueSender(queueUrl: string) {
  return async (messages: readonly unknown[]): Promise<void> => {
    const bodies = messages.map(serializeWithinLimit);
    const sqs = clients.sqs();
    if (bodies.length === 1) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: bodies[0] }));
      return;
    }
    for (let start = 0; start < bodies.length; start += 10) {
      const entries = bodies.slice(start, start + 10).map((MessageBody, index) => ({ Id: String(index), MessageBody }));
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if (result.Failed?.length) throw new Error(`SQS refused ${result.Failed.length} of ${entries.length} messages`);
    }
  };
}

function serializeWithinLimit(message: unknown): string {
  const body = JSON.stringify(message);
  if (Buffer.byteLength(body) > maxMessageBytes) {
    throw new PayloadTooLargeError(`The request is over ${maxMessageBytes / 1024} KB once queued`, {
      limitBytes: maxMessageBytes,
    });
  }
  return body;
}
