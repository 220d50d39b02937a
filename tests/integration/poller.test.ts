import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { sqsClient, startPoller } from "@leadflow/local";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { describe, expect, inject, it } from "vitest";
import { freshQueue, queueCounts, receiveAsEvent, type TestQueue } from "../helpers/sqs.ts";
import { waitFor } from "../helpers/wait.ts";

const sqs = sqsClient(inject("emulators").sqs);

/** Queue + DLQ with a redrive policy, as ensureQueues creates them, with short timings. */
async function queueWithDeadLetters(maxReceiveCount: number) {
  const deadLetters = await freshQueue(sqs);
  const queue = await freshQueue(sqs, {
    VisibilityTimeout: "1",
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount }),
  });
  return { queue, deadLetters };
}

/** The poller as the worker runs it (one batch at a time), on a test queue. */
function pollWith(
  queue: TestQueue,
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
  timeoutSeconds = 10,
  client: SQSClient = sqs,
) {
  return startPoller({
    client,
    queueUrl: queue.url,
    queueArn: queue.arn,
    functionName: "test",
    batchSize: 10,
    concurrency: 1,
    timeoutSeconds,
    handler,
  });
}

async function send(queueUrl: string, bodies: string[]) {
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** A client of its own for the poller, and a promise that settles once it has sent a ReceiveMessage. */
function clientWatchingReceives() {
  const client = sqsClient(inject("emulators").sqs);
  let receiving: () => void = () => undefined;
  const received = new Promise<void>((resolve) => {
    receiving = resolve;
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === "ReceiveMessageCommand") receiving();
      return next(args);
    },
    { step: "initialize" },
  );
  return { client, receiving: received };
}

describe("the local SQS event source", () => {
  it("hands the handler SQS events in batches, and deletes what it reports as done", async () => {
    const { queue } = await queueWithDeadLetters(5);
    await send(queue.url, ["a", "b", "c"]);
    const events: SQSEvent[] = [];
    const poller = pollWith(queue, async (event: SQSEvent) => {
      events.push(event);
      return { batchItemFailures: [] } satisfies SQSBatchResponse;
    });
    await waitFor(async () => events.flatMap((event) => event.Records).length === 3, 10_000, "three records");
    await poller.stop();
    const record = events[0]?.Records[0];
    expect(record).toMatchObject({ eventSource: "aws:sqs", eventSourceARN: queue.arn, awsRegion: "us-east-1" });
    expect(record?.attributes.ApproximateReceiveCount).toBe("1");
    expect(await queueCounts(sqs, queue)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("redelivers only the batchItemFailures, after the visibility timeout, with a higher receive count", async () => {
    const { queue } = await queueWithDeadLetters(5);
    await send(queue.url, ["keep", "retry"]);
    const seen: { body: string; count: string }[] = [];
    const poller = pollWith(queue, async (event: SQSEvent) => {
      const failures = [];
      for (const record of event.Records) {
        seen.push({ body: record.body, count: record.attributes.ApproximateReceiveCount });
        if (record.body === "retry" && record.attributes.ApproximateReceiveCount === "1") {
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures: failures };
    });
    await waitFor(async () => seen.some((entry) => entry.count === "2"), 10_000, "the failed record to come back");
    await poller.stop();
    expect(seen.filter((entry) => entry.body === "keep")).toHaveLength(1);
    expect(seen.filter((entry) => entry.body === "retry").map((entry) => entry.count)).toEqual(["1", "2"]);
  });

  it("leaves a whole failed invocation to SQS, which moves it to the DLQ after maxReceiveCount", async () => {
    const { queue, deadLetters } = await queueWithDeadLetters(2);
    await send(queue.url, ["poison"]);
    let invocations = 0;
    const poller = pollWith(queue, async () => {
      invocations++;
      throw new Error("the handler crashed");
    });
    await waitFor(async () => (await queueCounts(sqs, deadLetters)).visible === 1, 15_000, "the DLQ");
    await poller.stop();
    expect(invocations).toBe(2);
    expect((await receiveAsEvent(sqs, deadLetters, 1)).Records[0]?.body).toBe("poison");
  });

  it("gives a batch up when its handler outlives the function timeout, as Lambda would", async () => {
    const { queue, deadLetters } = await queueWithDeadLetters(2);
    await send(queue.url, ["slow"]);
    let invocations = 0;
    const poller = pollWith(
      queue,
      () => {
        invocations++;
        return new Promise<SQSBatchResponse>(() => undefined);
      },
      1,
    );
    await waitFor(async () => (await queueCounts(sqs, deadLetters)).visible === 1, 15_000, "the DLQ");
    await poller.stop();
    expect(invocations).toBe(2);
  });

  it("on stop, lets a receive under way return and finishes its batch: nothing it took stays invisible", async () => {
    // The queues' visibility timeout: a message taken and then dropped would be gone for 2 minutes.
    const queue = await freshQueue(sqs, { VisibilityTimeout: "120" });
    const { client, receiving } = clientWatchingReceives();
    const handled: string[] = [];
    const poller = pollWith(
      queue,
      async (event: SQSEvent) => {
        handled.push(...event.Records.map((record) => record.body));
        return { batchItemFailures: [] };
      },
      10,
      client,
    );
    await receiving;
    // Lets the emulator take the long poll in before the stop.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const stopped = poller.stop();
    await send(queue.url, ["a", "b", "c"]);
    await stopped;

    const receivableAgain = (await receiveAsEvent(sqs, queue, 3, 1)).Records.map((record) => record.body);
    expect([...handled, ...receivableAgain].sort()).toEqual(["a", "b", "c"]);
    expect(await queueCounts(sqs, queue)).toEqual({ visible: 0, inFlight: receivableAgain.length });
  });
});
