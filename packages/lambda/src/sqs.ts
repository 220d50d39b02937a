import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { LeadflowError, mapLimited, PayloadTooLargeError, ValidationError } from "@leadflow/core";
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
  /**
   * Records of a batch with the same key are handled one after the other, in batch order (the
   * others run at once): e.g. captures of one person, which would otherwise race for one lead.
   */
  sequenceKey?: (message: Message) => string | undefined;
}

/**
 * An SQS consumer with partial batch failures (Powertools). A failing record is retried with
 * exponential backoff; a record that can never succeed, or that fails its last allowed attempt,
 * is sent to the dead-letter queue with the reason as message attributes, then acknowledged.
 */
export function queueConsumer<Message>({ schema, handle, sequenceKey }: QueueConsumerOptions<Message>) {
  const policy = {
    queueUrl: requiredSetting(environmentNames.ownQueueUrl),
    deadLetterUrl: requiredSetting(environmentNames.deadLetterUrl),
    maxReceiveCount: Number(requiredSetting(environmentNames.maxReceiveCount)),
    retryBaseSeconds: Number(requiredSetting(environmentNames.retryBaseSeconds)),
  };

  async function processRecord(record: SQSRecord, inOrder: Sequencer): Promise<void> {
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    try {
      const message = parseMessage(record.body, schema);
      await inOrder(sequenceKey?.(message), () => handle(message, record));
    } catch (error) {
      if (isPermanent(error) || attempt >= policy.maxReceiveCount) {
        await deadLetter(record, error, attempt);
        return;
      }
      const retryAfter = (error as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
      if (typeof retryAfter === "number") {
        // Not a failure: the message may not go yet (a nurture send outside its window).
        logger.info("Message put back until it may go", {
          messageId: record.messageId,
          attempt,
          delaySeconds: retryAfter,
        });
        await postponeRetry(record, Math.min(retryAfter, maxVisibilitySeconds));
        throw error;
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

  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler((event, context) => {
      // A processor per invocation: it keeps the batch's failures on itself, and invocations may
      // overlap (the local runtime's pollers share one process, as could any non-Lambda host).
      // A batch where every record failed is still a partial response: each failure was logged.
      const inOrder = sequencer();
      return processPartialResponse(
        event,
        (record: SQSRecord) => processRecord(record, inOrder),
        new BatchProcessor(EventType.SQS),
        {
          context,
          throwOnFullBatchFailure: false,
        },
      );
    });
}

type Sequencer = <T>(key: string | undefined, work: () => Promise<T>) => Promise<T>;

/** Runs work with the same key one after another, in the order it was asked for; other work at once. */
function sequencer(): Sequencer {
  const tails = new Map<string, Promise<unknown>>();
  return (key, work) => {
    if (key === undefined) return work();
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work);
    tails.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  };
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
/** SendMessageBatch calls under way at once for a large delivery (a full Meta batch is 100). */
const sendConcurrency = 8;

/**
 * Sends messages to a queue (batches of 10). Each message is first checked against the schema
 * its consumer parses it with: what the consumer would refuse is the sender's input (422), found
 * while the sender can still be told. Throws unless every message was accepted; a message over
 * the SQS limit is refused (413) before anything is sent.
 */
export function queueSender<Message>(queueUrl: string, schema: z.ZodType<Message>) {
  return async (messages: readonly Message[]): Promise<void> => {
    const bodies = messages.map((message) => serializeWithinLimit(checked(schema, message)));
    const sqs = clients.sqs();
    if (bodies.length === 1) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: bodies[0] }));
      return;
    }
    const batches: string[][] = [];
    for (let start = 0; start < bodies.length; start += 10) batches.push(bodies.slice(start, start + 10));
    await mapLimited(batches, sendConcurrency, async (batch) => {
      const entries = batch.map((MessageBody, index) => ({ Id: String(index), MessageBody }));
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if (result.Failed?.length) throw new Error(`SQS refused ${result.Failed.length} of ${entries.length} messages`);
    });
  };
}

function checked<Message>(schema: z.ZodType<Message>, message: Message): Message {
  const parsed = schema.safeParse(message);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, "The request holds what leadflow cannot process");
  return message;
}

/**
 * JSON text SQS can carry. SQS refuses U+FFFE and U+FFFF (and lone surrogates, which
 * `JSON.stringify` already escapes); they can only appear inside JSON strings, where an escape
 * means the same, so the consumer parses back exactly what was sent.
 */
export function serializeWithinLimit(message: unknown): string {
  const body = JSON.stringify(message).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
  if (Buffer.byteLength(body) > maxMessageBytes) {
    throw new PayloadTooLargeError(`The request is over ${maxMessageBytes / 1024} KB once queued`, {
      limitBytes: maxMessageBytes,
    });
  }
  return body;
}
