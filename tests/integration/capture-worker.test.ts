import type { SQSClient } from "@aws-sdk/client-sqs";
import type { CaptureMessage } from "@leadflow/channels";
import type { CaptureReceipt, MappedFields } from "@leadflow/core";
import type { LeadStore } from "@leadflow/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { consumerContext, consumerUnderTest } from "../helpers/emulator-environment.ts";
import { startMetaGraph } from "../helpers/meta-graph.ts";
import { graphLead } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { deliverAsEvent, queueCounts, receiveAsEvent, type TestQueue } from "../helpers/sqs.ts";

const context = consumerContext;

let handler: Awaited<ReturnType<typeof consumerUnderTest>>["handler"];
let store: LeadStore;
let sqs: SQSClient;
let queue: TestQueue;
let deadLetters: TestQueue;
let graph: Awaited<ReturnType<typeof startMetaGraph>>;
let graphControl: Awaited<ReturnType<typeof startMetaGraph>>["control"];

beforeAll(async () => {
  graph = await startMetaGraph();
  graphControl = graph.control;
  ({ handler, store, sqs, queue, deadLetters } = await consumerUnderTest("functions/ingest/capture-worker.ts", {
    queueAttributes: { VisibilityTimeout: "30" },
    environment: { META_GRAPH_URL: graph.url, META_PAGE_ACCESS_TOKEN: testSecrets.META_PAGE_ACCESS_TOKEN },
  }));
});

afterAll(() => graph.stop());

function leadMessage(values: MappedFields["values"], receipt: Partial<CaptureReceipt> = {}): CaptureMessage {
  return { kind: "lead", receipt: capture({}, receipt).receipt, fields: { values, custom: {} }, attribution: {} };
}

function metaMessage(leadgenId: string): CaptureMessage {
  const receipt = { source: "meta", platformLeadId: leadgenId, receivedAt: new Date().toISOString(), test: false };
  return { kind: "meta-lead", receipt, meta: { leadgenId, formId: "1234567890123456", pageId: "153125381133" } };
}

async function deadLettered(count: number) {
  const event = await receiveAsEvent(sqs, deadLetters, count);
  return event.Records.map((record) => ({
    body: record.body,
    code: record.messageAttributes["leadflow.error.code"]?.stringValue,
    message: record.messageAttributes["leadflow.error.message"]?.stringValue,
    attempts: record.messageAttributes["leadflow.attempts"]?.stringValue,
  }));
}

async function leadByEmail(email: string) {
  const id = await store.findLeadIdByEmail(email);
  return id ? store.getLeadWithHistory(id) : undefined;
}

describe("the capture worker", () => {
  it("stores a lead with its history, and a redelivery of the same message changes nothing", async () => {
    const message = leadMessage({ email: "Ada@Example.com", firstName: "Ada", phone: "(415) 555-0199" });
    const first = await handler(await deliverAsEvent(sqs, queue, [message]), context);
    const again = await handler(await deliverAsEvent(sqs, queue, [message]), context);
    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    const found = await leadByEmail("ada@example.com");
    expect(found?.lead).toMatchObject({
      firstName: "Ada",
      phone: "+14155550199",
      sources: [expect.objectContaining({ source: "form" })],
    });
    expect(found?.history.filter((entry) => entry.type === "lead.captured")).toEqual([
      expect.objectContaining({ summary: "Created from form" }),
    ]);
    expect(await queueCounts(sqs, queue)).toEqual({ visible: 0, inFlight: 2 });
  });

  it("fetches a Meta lead's fields from the Graph API with the page token", async () => {
    await graphControl.addLeads({
      "90000000000000001": graphLead("90000000000000001", { full_name: "Joe Example", email: "joe@example.com" }),
    });
    const result = await handler(await deliverAsEvent(sqs, queue, [metaMessage("90000000000000001")]), context);
    expect(result.batchItemFailures).toEqual([]);
    const found = await leadByEmail("joe@example.com");
    expect(found?.lead).toMatchObject({ firstName: "Joe", lastName: "Example" });
    expect(found?.lead.sources[0]?.attribution).toMatchObject({ form_id: "1234567890123456", page_id: "153125381133" });
    const calls = await graphControl.calls();
    expect(calls).toContainEqual({
      leadgenId: "90000000000000001",
      accessToken: testSecrets.META_PAGE_ACCESS_TOKEN,
      status: 200,
    });
  });

  it("retries a Meta lead while the Graph API is down, postponing the retry, and stores it after", async () => {
    await graphControl.addLeads({
      "90000000000000002": graphLead("90000000000000002", { email: "later@example.com" }),
    });
    await graphControl.setOutage(true);
    const event = await deliverAsEvent(sqs, queue, [metaMessage("90000000000000002")]);
    const failed = await handler(event, context);
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
    expect(await leadByEmail("later@example.com")).toBeUndefined();
    const invisible = await receiveAsEvent(sqs, queue, 1, 2);
    expect(invisible.Records).toEqual([]);

    await graphControl.setOutage(false);
    const retried = await handler(event, context);
    expect(retried.batchItemFailures).toEqual([]);
    expect(await leadByEmail("later@example.com")).toBeDefined();
  });

  it("dead-letters a message that is not a capture, with the reason, and acknowledges it", async () => {
    const event = await deliverAsEvent(sqs, queue, ["not json", { kind: "lead", receipt: {} }]);
    const result = await handler(event, context);
    expect(result.batchItemFailures).toEqual([]);
    const letters = await deadLettered(2);
    expect(letters.map((letter) => letter.code).sort()).toEqual(["PoisonMessageError", "PoisonMessageError"]);
    expect(letters.find((letter) => letter.body === "not json")?.message).toMatch(/not JSON/);
  });

  it("dead-letters on the last allowed attempt with the last error", async () => {
    await graphControl.setOutage(true);
    const event = await deliverAsEvent(sqs, queue, [metaMessage("90000000000000003")]);
    const lastAttempt = {
      Records: event.Records.map((record) => ({
        ...record,
        attributes: { ...record.attributes, ApproximateReceiveCount: "3" },
      })),
    };
    const result = await handler(lastAttempt, context);
    await graphControl.setOutage(false);
    expect(result.batchItemFailures).toEqual([]);
    expect(await deadLettered(1)).toEqual([
      expect.objectContaining({ code: "GraphApiError", attempts: "3", message: expect.stringMatching(/503/) }),
    ]);
  });

  it("retries a Meta lead the Graph API says does not exist (it says so for a token without access too)", async () => {
    const event = await deliverAsEvent(sqs, queue, [metaMessage("90000000000000099")]);
    const result = await handler(event, context);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
  });

  it("dead-letters a Meta lead that has neither email nor phone", async () => {
    await graphControl.addLeads({ "90000000000000004": graphLead("90000000000000004", { full_name: "No Contact" }) });
    await handler(await deliverAsEvent(sqs, queue, [metaMessage("90000000000000004")]), context);
    expect(await deadLettered(1)).toEqual([expect.objectContaining({ code: "validation_failed" })]);
  });

  it("makes one lead per person from a batch where several messages share an email", async () => {
    const emails = ["one@batch.example", "two@batch.example", "three@batch.example"];
    const messages = Array.from({ length: 10 }, (_, index) =>
      leadMessage({ email: emails[index % 3] }, { source: ["form", "meta", "google-ads"][index % 3] as string }),
    );
    const result = await handler(await deliverAsEvent(sqs, queue, messages), context);
    expect(result.batchItemFailures).toEqual([]);
    const counts = await Promise.all(emails.map(async (email) => (await leadByEmail(email))?.lead.sources.length));
    expect(counts).toEqual([4, 3, 3]);
  });
});

describe("the capture worker under overlapping invocations", () => {
  it("reports each batch's own failures when batches overlap, as the local pollers make them", async () => {
    await graphControl.setOutage(true);
    try {
      const failing = await deliverAsEvent(sqs, queue, [metaMessage("90000000000000100")]);
      const succeeding = await deliverAsEvent(sqs, queue, [
        leadMessage({ email: "overlap-1@example.com" }),
        leadMessage({ email: "overlap-2@example.com" }),
      ]);
      const [failed, done] = await Promise.all([handler(failing, context), handler(succeeding, context)]);
      expect(failed.batchItemFailures).toEqual([{ itemIdentifier: failing.Records[0]?.messageId }]);
      expect(done.batchItemFailures).toEqual([]);
    } finally {
      await graphControl.setOutage(false);
    }
  });
});
