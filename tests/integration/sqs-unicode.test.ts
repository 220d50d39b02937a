import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  InvalidMessageContents,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { sqsClient, startSqs } from "@leadflow/local";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freshQueue, receiveAsEvent } from "../helpers/sqs.ts";

/** What real SQS takes: #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF. */
const accepted = ["Hi 👋", "𠮷田", "\t\n\r ~\u007f\ud7ff\ue000\ufffd\u{10000}\u{10ffff}"];
/** …and what it refuses with InvalidMessageContents. */
const refused = {
  "U+FFFF": "bad \uffff",
  "U+FFFE": "bad \ufffe",
  "a lone high surrogate": "bad \ud83d",
  "a lone low surrogate": "bad \udc4b",
  "a control character": "bad \u0001",
};

const dataDir = mkdtempSync(join(tmpdir(), "leadflow-sqs-unicode-"));
let sqlite: Awaited<ReturnType<typeof startSqs>>;
beforeAll(async () => {
  sqlite = await startSqs(dataDir);
});
afterAll(async () => {
  await sqlite.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const modes: [string, () => SQSClient][] = [
  ["in memory", () => sqsClient(inject("emulators").sqs)],
  ["with SQLite (--data)", () => sqsClient(sqlite.endpoint)],
];

describe.each(modes)("the local SQS (%s) takes every character real SQS takes", (_mode, client) => {
  it("sends characters outside the BMP in bodies and attributes, and reads them back unchanged", async () => {
    const sqs = client();
    const queue = await freshQueue(sqs);
    const attribute: MessageAttributeValue = { DataType: "String", StringValue: "Hi 👋 𠮷" };
    for (const body of accepted) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageAttributes: { attribute } }),
      );
    }

    const { Records } = await receiveAsEvent(sqs, queue, accepted.length);
    expect(Records.map((record) => record.body).sort()).toEqual([...accepted].sort());
    for (const record of Records) expect(record.messageAttributes.attribute?.stringValue).toBe("Hi 👋 𠮷");
  });

  it.each(Object.entries(refused))("refuses %s with InvalidMessageContents", async (_name, body) => {
    const sqs = client();
    const queue = await freshQueue(sqs);
    // The SDK raises its own class for it, as it does against AWS.
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }))).rejects.toBeInstanceOf(
      InvalidMessageContents,
    );
  });

  it("checks each entry of a batch the same way", async () => {
    const sqs = client();
    const queue = await freshQueue(sqs);
    const { Successful = [], Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          { Id: "emoji", MessageBody: "Hi 👋" },
          { Id: "noncharacter", MessageBody: "bad \uffff" },
        ],
      }),
    );
    expect(Successful.map((entry) => entry.Id)).toEqual(["emoji"]);
    expect(Failed).toEqual([expect.objectContaining({ Id: "noncharacter", Code: "InvalidMessageContents" })]);
  });
});

it("keeps characters outside the BMP across a restart with SQLite (--data)", async () => {
  const directory = mkdtempSync(join(tmpdir(), "leadflow-sqs-restart-"));
  try {
    const first = await startSqs(directory);
    const queue = await freshQueue(sqsClient(first.endpoint));
    await sqsClient(first.endpoint).send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "𠮷田 👋" }));
    await first.stop();

    const second = await startSqs(directory);
    try {
      const sqs = sqsClient(second.endpoint);
      // The queue URL names the emulator's port, which a restart changes.
      const restarted = { ...queue, url: queue.url.replace(/:\d+\//, `:${new URL(second.endpoint).port}/`) };
      const { Records } = await receiveAsEvent(sqs, restarted, 1);
      expect(Records.map((record) => record.body)).toEqual(["𠮷田 👋"]);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
