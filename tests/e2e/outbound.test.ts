import { GetQueueAttributesCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { OutboundMessageInput } from "@leadflow/channels";
import { dynamoClient, type OutboxItem, sqsClient } from "@leadflow/local";
import { createOutboundStore } from "@leadflow/store";
import { afterEach, describe, expect, inject, it } from "vitest";
import { waitFor } from "../helpers/wait.ts";

/** Outbound messages through the local stack: the outbound queue, its consumer, the SES and SMS emulators. */

const stack = inject("stack");
const sqs = sqsClient(stack.sqsEndpoint);
const ledger = createOutboundStore({ client: dynamoClient(stack.dynamodbEndpoint), tableName: stack.tableName });
let sequence = 0;
const unique = () => `${Date.now()}-${sequence++}`;

function alertEmail(suffix: string): OutboundMessageInput {
  return {
    id: `e2e-email-${suffix}`,
    purpose: "speed-to-lead-alert",
    leadId: `lead-${suffix}`,
    channel: "email",
    to: `rep-${suffix}@example.com`,
    from: "Leadflow Alerts <alerts@example.com>",
    subject: `Hot lead ${suffix}`,
    text: `Accept: ${stack.url}/alerts/${suffix}`,
    html: `<a href="${stack.url}/alerts/${suffix}">Accept</a>`,
    headers: { "List-Unsubscribe": `<${stack.url}/unsubscribe/${suffix}>` },
  };
}

function alertSms(suffix: string): OutboundMessageInput {
  return {
    id: `e2e-sms-${suffix}`,
    purpose: "speed-to-lead-alert",
    channel: "sms",
    to: "+14155550101",
    from: "+18005550100",
    text: `Hot lead. Accept: ${stack.url}/alerts/${suffix}`,
  };
}

async function enqueue(messages: OutboundMessageInput[]) {
  const { Failed = [] } = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: stack.queues.outbound.url,
      Entries: messages.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) })),
    }),
  );
  expect(Failed).toEqual([]);
}

async function messages(): Promise<OutboxItem[]> {
  const response = await fetch(`${stack.url}/_local/messages`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: OutboxItem[] }).items;
}

async function setOutage(channel: "email" | "sms", on: boolean) {
  const response = await fetch(`${stack.url}/_local/messages/outage`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel, on }),
  });
  expect(response.status).toBe(200);
}

async function arrived(ids: string[], timeoutMs = 30_000): Promise<OutboxItem[]> {
  let found: OutboxItem[] = [];
  await waitFor(
    async () => {
      found = (await messages()).filter((item) => ids.includes(item.id));
      return found.length >= ids.length;
    },
    timeoutMs,
    `messages ${ids.join(", ")} in the outbox`,
  );
  return found;
}

/** Resolves once nothing waits or is in flight on the outbound queue. */
async function outboundDrained(): Promise<void> {
  await waitFor(
    async () => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.queues.outbound.url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) === 0
      );
    },
    30_000,
    "the outbound queue to drain",
  );
}

afterEach(() => setOutage("sms", false));

describe("outbound messages on the local stack", () => {
  it("sends queued email and SMS, listed at GET /_local/messages oldest first, each id once", async () => {
    const suffix = unique();
    const email = alertEmail(suffix);
    const sms = alertSms(suffix);
    await enqueue([email, sms, email]);
    const items = await arrived([email.id, sms.id]);

    expect(items.find((item) => item.id === email.id)).toEqual({
      id: email.id,
      channel: "email",
      to: `rep-${suffix}@example.com`,
      from: "Leadflow Alerts <alerts@example.com>",
      subject: `Hot lead ${suffix}`,
      text: `Accept: ${stack.url}/alerts/${suffix}`,
      html: `<a href="${stack.url}/alerts/${suffix}">Accept</a>`,
      headers: { "List-Unsubscribe": `<${stack.url}/unsubscribe/${suffix}>` },
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      purpose: "speed-to-lead-alert",
      providerMessageId: expect.any(String),
    });
    expect(items.find((item) => item.id === sms.id)).toMatchObject({
      channel: "sms",
      to: "+14155550101",
      from: "+18005550100",
      subject: null,
      html: null,
      headers: {},
    });
    const all = await messages();
    const times = all.map((item) => Date.parse(item.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The second copy of the email found the first one's claim, was retried, and then found it sent.
    await outboundDrained();
    expect(await ledger.find(email.id)).toMatchObject({ state: "sent" });
    expect((await messages()).filter((item) => item.id === email.id)).toHaveLength(1);
  });

  it("lists only what was sent since an earlier answer with ?offset=<its next>, and refuses an offset it never gave", async () => {
    const { next } = (await (await fetch(`${stack.url}/_local/messages`)).json()) as { next: number };
    const suffix = unique();
    const sms = alertSms(suffix);
    await enqueue([sms]);
    await arrived([sms.id]);
    const since = (await (await fetch(`${stack.url}/_local/messages?offset=${next}`)).json()) as {
      items: OutboxItem[];
      next: number;
    };
    expect(since.items.map((item) => item.id)).toContain(sms.id);
    expect(since.items.length).toBe(since.next - next);
    for (const offset of ["-1", "x", String(since.next + 1_000_000)]) {
      const bad = await fetch(`${stack.url}/_local/messages?offset=${offset}`);
      expect(bad.status).toBe(422);
      expect(await bad.json()).toMatchObject({ error: { code: "validation_failed" } });
    }
  });

  it("keeps custom headers in aws-ses-v2-local's own store, and links start with PUBLIC_URL (the local server)", async () => {
    const environment = (await (await fetch(`${stack.url}/_local/environment`)).json()) as Record<string, string>;
    expect(environment.PUBLIC_URL).toBe(stack.url);
    const email = alertEmail(unique());
    await enqueue([email]);
    await arrived([email.id]);
    const store = (await (await fetch(`${environment.AWS_ENDPOINT_URL_SESV2}/store`)).json()) as {
      emails: { subject: string; headers?: { name: string; value: string }[] }[];
    };
    const stored = store.emails.find((entry) => entry.subject === (email as { subject: string }).subject);
    expect(stored?.headers).toEqual([{ name: "List-Unsubscribe", value: expect.stringContaining(stack.url) }]);
  });

  it("retries an SMS that fails while the email beside it is sent at once", async () => {
    const suffix = unique();
    const email = alertEmail(suffix);
    const sms = alertSms(suffix);
    await setOutage("sms", true);
    await enqueue([email, sms]);
    await arrived([email.id]);
    await waitFor(
      async () => (await ledger.find(sms.id))?.lastError === "OutboundUnavailableError",
      30_000,
      "a failed SMS attempt",
    );
    expect((await messages()).filter((item) => item.id === sms.id)).toEqual([]);

    await setOutage("sms", false);
    const [delivered] = await arrived([sms.id]);
    expect(delivered).toMatchObject({ channel: "sms", to: "+14155550101" });
    expect((await messages()).filter((item) => item.id === email.id)).toHaveLength(1);
  });

  it("refuses an outage request that names no channel", async () => {
    const response = await fetch(`${stack.url}/_local/messages/outage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel: "fax", on: true }),
    });
    expect(response.status).toBe(422);
  });
});
