import { createHash } from "node:crypto";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { localRegion } from "./development.ts";
import { type LambdaHandler, lambdaContext } from "./lambda-runtime.ts";

export interface PollerOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  functionName: string;
  handler: LambdaHandler;
  batchSize: number;
  /** Batches handled at once, like the concurrent pollers of Lambda's event source mapping. */
  concurrency: number;
  timeoutSeconds: number;
  /** Taken around each receive and its batch: lets the API go first (see yielding.ts). */
  gate?: { enter(): Promise<(workedMs: number) => void>; readonly busy: boolean };
}

/**
 * Lambda's SQS event source mapping on one machine: long-polls the queue, hands the handler a
 * real SQS event, deletes what succeeded and leaves `batchItemFailures` to come back after
 * their visibility timeout (and to the DLQ after maxReceiveCount, which the emulator applies).
 */
export function startPoller(options: PollerOptions) {
  const stop = stopRequest();
  const loops = Array.from({ length: options.concurrency }, () => pollUntilStopped(options, stop));
  return {
    /**
     * Stops receiving: each receive under way is let return (never aborted, as the emulator may
     * already have taken messages for it) and its batch is finished like any other.
     */
    async stop(): Promise<void> {
      stop.request();
      await Promise.allSettled(loops);
    },
  };
}

/**
 * A receive waits at most this long for messages. Shorter than SQS's 20 s because a stop waits
 * for the receives under way (see `stop`), and Ctrl-C should take a moment, not 20 s.
 */
const localWaitSeconds = 2;

/** Between two turns that found this poller's queue empty while the API was busy. */
const emptyTurnPauseMs = 250;
/** After a receive or delete failed. */
const errorPauseMs = 1000;

type StopRequest = ReturnType<typeof stopRequest>;

function stopRequest() {
  let requested = false;
  let wake: () => void = () => undefined;
  const whenRequested = new Promise<void>((resolve) => {
    wake = resolve;
  });
  return {
    get requested(): boolean {
      return requested;
    },
    request(): void {
      requested = true;
      wake();
    },
    /** Waits `ms`, or less if a stop is requested meanwhile. */
    async pause(ms: number): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), whenRequested]);
      clearTimeout(timer);
    },
  };
}

async function pollUntilStopped(options: PollerOptions, stop: StopRequest): Promise<void> {
  while (!stop.requested) {
    let leave = await options.gate?.enter();
    if (stop.requested) return leave?.(0);
    // While the API is busy a turn blocks every other poller, so it must not long-poll; once
    // the API is idle there is no turn to keep.
    const taking = options.gate?.busy === true;
    if (!taking) {
      leave?.(0);
      leave = undefined;
    }
    let workedMs = 0;
    let empty = false;
    try {
      const messages = await receive(options, taking ? 0 : localWaitSeconds);
      empty = messages.length === 0;
      const started = Date.now();
      if (!empty) await deliver(options, messages);
      workedMs = Date.now() - started;
    } catch (error) {
      // What was not deleted comes back after its visibility timeout; the loop goes on.
      console.error(`poller ${options.functionName}:`, (error as Error).message);
      await stop.pause(errorPauseMs);
    } finally {
      leave?.(workedMs);
    }
    if (taking && empty) await stop.pause(emptyTurnPauseMs);
  }
}

async function receive({ client, queueUrl, batchSize }: PollerOptions, waitSeconds: number): Promise<Message[]> {
  const received = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: batchSize,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  return received.Messages ?? [];
}

async function deliver(options: PollerOptions, messages: Message[]): Promise<void> {
  const event: SQSEvent = { Records: messages.map((message) => toRecord(message, options.queueArn)) };
  let failed: Set<string>;
  try {
    const invocation = options.handler(event, lambdaContext(options.functionName, options.timeoutSeconds));
    const result = (await withTimeout(invocation, options.timeoutSeconds)) as SQSBatchResponse | undefined;
    failed = new Set(result?.batchItemFailures?.map((failure) => failure.itemIdentifier) ?? []);
  } catch (error) {
    // A thrown or timed-out invocation fails the whole batch, as on Lambda.
    console.error(`poller ${options.functionName}: invocation failed`, (error as Error).message);
    failed = new Set(messages.map((message) => message.MessageId as string));
  }
  const done = messages.filter((message) => !failed.has(message.MessageId as string));
  if (done.length === 0) return;
  await options.client.send(
    new DeleteMessageBatchCommand({
      QueueUrl: options.queueUrl,
      Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string })),
    }),
  );
}

/** Lambda stops an invocation at its timeout; here the batch is given up (the handler may still finish). */
function withTimeout<T>(invocation: Promise<T>, timeoutSeconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutSeconds} s`)), timeoutSeconds * 1000);
  });
  return Promise.race([invocation, timeout]).finally(() => clearTimeout(timer));
}

export function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const body = message.Body ?? "";
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body,
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? "String",
          ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: localRegion,
  };
}
