import { maxJsonDepth, nestingDepth, parseJsonText, ValidationError } from "@leadflow/core";
import { ConfigurationError, loadSecrets, logger, queueConsumer, secretList } from "@leadflow/lambda";
import { developmentSecrets } from "@leadflow/manifest";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Whatever the logger writes while `action` runs. */
async function loggedDuring(action: () => Promise<unknown>): Promise<string> {
  const written: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    }),
  );
  logger.setLogLevel("INFO");
  try {
    await action().catch(() => undefined);
  } finally {
    logger.setLogLevel("SILENT");
    for (const spy of spies) spy.mockRestore();
  }
  return written.join("");
}

describe("secrets at a cold start", () => {
  // As on Lambda, whatever the environment the tests run in (the e2e stack marks itself local).
  beforeEach(() => {
    vi.stubEnv("LEADFLOW_RUNTIME", "");
  });

  it("refuses a public development value outside npm start, with a clear log line naming the secret", async () => {
    vi.stubEnv("ADMIN_API_KEY", developmentSecrets.ADMIN_API_KEY);
    const output = await loggedDuring(() => loadSecrets(["ADMIN_API_KEY"]));
    await expect(loadSecrets(["ADMIN_API_KEY"])).rejects.toBeInstanceOf(ConfigurationError);
    expect(output).toMatch(/Refusing to start: Secret ADMIN_API_KEY holds the public development value/);
  });

  it("refuses one even among several values being rotated, and an empty secret", async () => {
    vi.stubEnv("FORM_SIGNING_SECRET", `whsec_b3VyIG93bg== ${developmentSecrets.FORM_SIGNING_SECRET}`);
    await expect(loadSecrets(["FORM_SIGNING_SECRET"])).rejects.toThrow(/public development value/);
    vi.stubEnv("META_APP_SECRET", "");
    await expect(loadSecrets(["META_APP_SECRET"])).rejects.toThrow(/not set/);
  });

  it("takes the development values under npm start, and real ones anywhere", async () => {
    vi.stubEnv("ADMIN_API_KEY", developmentSecrets.ADMIN_API_KEY);
    vi.stubEnv("LEADFLOW_RUNTIME", "local");
    await expect(loadSecrets(["ADMIN_API_KEY"])).resolves.toEqual({ ADMIN_API_KEY: developmentSecrets.ADMIN_API_KEY });
    vi.stubEnv("LEADFLOW_RUNTIME", "");
    vi.stubEnv("ADMIN_API_KEY", "a-real-key");
    await expect(loadSecrets(["ADMIN_API_KEY"])).resolves.toEqual({ ADMIN_API_KEY: "a-real-key" });
  });

  it("reads several keys, separated by commas or spaces, while one is rotated", () => {
    expect(secretList("old-key,new-key")).toEqual(["old-key", "new-key"]);
    expect(secretList("whsec_a whsec_b")).toEqual(["whsec_a", "whsec_b"]);
  });
});

describe("JSON request bodies", () => {
  it("refuses nesting past the limit without recursing (a 100,000-deep list)", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(() => parseJsonText(deep)).toThrow(ValidationError);
    expect(nestingDepth(JSON.parse(`${"[".repeat(maxJsonDepth)}${"]".repeat(maxJsonDepth)}`))).toBe(maxJsonDepth);
    expect(parseJsonText('{"a":[{"b":[1]}]}')).toEqual({ a: [{ b: [1] }] });
    // With a reviver (Meta's big ids), JSON.parse itself recurses: the depth is checked first.
    const keepText = (_key: string, value: unknown) => value;
    expect(() => parseJsonText(`{"id":1234567890123456,"x":${deep}}`, { reviver: keepText })).toThrow(ValidationError);
  });
});

describe("a queue consumer", () => {
  function recordOf(body: unknown, messageId: string): SQSRecord {
    return {
      messageId,
      receiptHandle: messageId,
      body: JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "test",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:test",
      awsRegion: "us-east-1",
    };
  }

  it("handles the records of one key one after another, in batch order, and the others at once", async () => {
    vi.stubEnv("QUEUE_URL", "http://127.0.0.1:1/queue");
    vi.stubEnv("DEAD_LETTER_QUEUE_URL", "http://127.0.0.1:1/dlq");
    vi.stubEnv("MAX_RECEIVE_COUNT", "3");
    vi.stubEnv("RETRY_BASE_SECONDS", "1");
    const running = new Map<string, number>();
    let overlapWithinAKey = false;
    let mostAtOnce = 0;
    const order: string[] = [];
    const handler = queueConsumer({
      schema: z.object({ person: z.string(), n: z.number() }),
      sequenceKey: (message) => message.person,
      async handle({ person, n }) {
        running.set(person, (running.get(person) ?? 0) + 1);
        if ((running.get(person) ?? 0) > 1) overlapWithinAKey = true;
        mostAtOnce = Math.max(
          mostAtOnce,
          [...running.values()].reduce((sum, count) => sum + count, 0),
        );
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`${person}${n}`);
        running.set(person, (running.get(person) ?? 1) - 1);
      },
    });
    const people = ["ada", "bob", "ada", "cy", "ada", "bob"];
    const event: SQSEvent = { Records: people.map((person, n) => recordOf({ person, n }, `m${n}`)) };
    const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as Context;
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    expect(overlapWithinAKey).toBe(false);
    expect(mostAtOnce).toBe(3);
    expect(order.filter((entry) => entry.startsWith("ada"))).toEqual(["ada0", "ada2", "ada4"]);
  });
});
