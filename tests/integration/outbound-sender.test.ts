import type { SQSClient } from "@aws-sdk/client-sqs";
import type { OutboundMessageInput } from "@leadflow/channels";
import { dynamoClient, type Outbox, openOutbox, type SesEmulator, startSes, startSms } from "@leadflow/local";
import { createOutboundStore, type OutboundStore } from "@leadflow/store";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { consumerContext, consumerUnderTest } from "../helpers/emulator-environment.ts";
import { deliverAsEvent, receiveAsEvent, type TestQueue } from "../helpers/sqs.ts";

/** The outbound consumer against aws-ses-v2-local, the local SMS emulator, dynalite and fauxqs. */

let outbox: Outbox;
let ses: SesEmulator;
let sms: Awaited<ReturnType<typeof startSms>>;
let handler: Awaited<ReturnType<typeof consumerUnderTest>>["handler"];
let sqs: SQSClient;
let queue: TestQueue;
let deadLetters: TestQueue;
let ledger: OutboundStore;
let sequence = 0;

beforeAll(async () => {
  outbox = openOutbox();
  [ses, sms] = await Promise.all([startSes(outbox), startSms(outbox)]);
  ({ handler, sqs, queue, deadLetters } = await consumerUnderTest("functions/outbound/sender.ts", {
    environment: {
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: sms.endpoint,
    },
  }));
  const client = dynamoClient(inject("emulators").dynamodb[0]?.endpoint as string);
  ledger = createOutboundStore({ client, tableName: process.env.TABLE_NAME as string });
});

afterAll(async () => {
  await Promise.all([ses?.stop(), sms?.stop()]);
});

function email(overrides: Partial<Extract<OutboundMessageInput, { channel: "email" }>> = {}) {
  const id = `email-${Date.now()}-${sequence++}`;
  return {
    id,
    purpose: "speed-to-lead-alert",
    leadId: "lead-1",
    channel: "email",
    to: `rep-${id}@example.com`,
    from: "Leadflow Alerts <alerts@example.com>",
    subject: `New hot lead (${id})`,
    text: "Accept: http://localhost:3000/alerts/abc",
    html: '<p><a href="http://localhost:3000/alerts/abc">Accept</a></p>',
    headers: {
      "List-Unsubscribe": "<http://localhost:3000/unsubscribe/abc>",
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    ...overrides,
  } satisfies OutboundMessageInput;
}

function text(overrides: Partial<Extract<OutboundMessageInput, { channel: "sms" }>> = {}) {
  return {
    id: `sms-${Date.now()}-${sequence++}`,
    purpose: "speed-to-lead-alert",
    channel: "sms",
    to: "+14155550101",
    from: "+18005550100",
    text: "New hot lead. Accept: http://localhost:3000/alerts/abc",
    ...overrides,
  } satisfies OutboundMessageInput;
}

const sentWithId = (id: string) => outbox.list().filter((item) => item.id === id);

async function inboxEmails() {
  const response = await fetch(`${ses.inbox}/store`);
  return ((await response.json()) as { emails: InboxEmail[] }).emails;
}

interface InboxEmail {
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
  headers?: { name: string; value: string }[];
}

async function setOutage(channel: "email" | "sms", on: boolean) {
  outbox.outage[channel] = on;
}

describe("the outbound sender", () => {
  it("sends an email to SES as Simple content that keeps its custom headers", async () => {
    const message = email();
    const result = await handler(await deliverAsEvent(sqs, queue, [message]), consumerContext);
    expect(result.batchItemFailures).toEqual([]);

    const received = (await inboxEmails()).filter((entry) => entry.subject === message.subject);
    expect(received).toEqual([
      expect.objectContaining({
        from: message.from,
        destination: expect.objectContaining({ to: [message.to] }),
        body: { text: message.text, html: message.html },
        headers: [
          { name: "List-Unsubscribe", value: "<http://localhost:3000/unsubscribe/abc>" },
          { name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click" },
        ],
      }),
    ]);
    expect(sentWithId(message.id)).toEqual([
      expect.objectContaining({ channel: "email", to: message.to, subject: message.subject, purpose: message.purpose }),
    ]);
    expect(await ledger.find(message.id)).toMatchObject({ state: "sent", channel: "email", leadId: "lead-1" });
  });

  it("sends an SMS with SendTextMessage from its origination identity", async () => {
    const message = text();
    const result = await handler(await deliverAsEvent(sqs, queue, [message]), consumerContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(sentWithId(message.id)).toEqual([
      expect.objectContaining({
        channel: "sms",
        to: "+14155550101",
        from: "+18005550100",
        text: message.text,
        subject: null,
        html: null,
        headers: {},
      }),
    ]);
  });

  it("sends a message delivered twice only once, one delivery after the other or both at once", async () => {
    const message = text();
    await handler(await deliverAsEvent(sqs, queue, [message]), consumerContext);
    const again = await handler(await deliverAsEvent(sqs, queue, [message]), consumerContext);
    expect(again.batchItemFailures).toEqual([]);
    expect(sentWithId(message.id)).toHaveLength(1);

    // Both copies in one batch run at once: one sends, the other finds it claimed and is retried.
    const twin = email();
    const both = await handler(await deliverAsEvent(sqs, queue, [twin, twin]), consumerContext);
    expect(both.batchItemFailures).toHaveLength(1);
    expect(sentWithId(twin.id)).toHaveLength(1);
    const retried = await handler(await deliverAsEvent(sqs, queue, [twin]), consumerContext);
    expect(retried.batchItemFailures).toEqual([]);
    expect(sentWithId(twin.id)).toHaveLength(1);
  });

  it("retries an SMS that fails on its own, without holding back the email sent beside it", async () => {
    const alertEmail = email();
    const alertSms = text();
    await setOutage("sms", true);
    try {
      const event = await deliverAsEvent(sqs, queue, [alertEmail, alertSms]);
      const failed = await handler(event, consumerContext);
      const smsRecord = event.Records.find((record) => record.body.includes(alertSms.id));
      expect(failed.batchItemFailures).toEqual([{ itemIdentifier: smsRecord?.messageId }]);
      expect(sentWithId(alertEmail.id)).toHaveLength(1);
      expect(sentWithId(alertSms.id)).toEqual([]);
      expect(await ledger.find(alertSms.id)).toMatchObject({ state: "failed", lastError: "OutboundUnavailableError" });
    } finally {
      await setOutage("sms", false);
    }
    const retried = await handler(await deliverAsEvent(sqs, queue, [alertSms]), consumerContext);
    expect(retried.batchItemFailures).toEqual([]);
    expect(sentWithId(alertSms.id)).toHaveLength(1);
    expect(sentWithId(alertEmail.id)).toHaveLength(1);
  });

  it("dead-letters a message the provider refuses, with the reason and without the number", async () => {
    const refused = text({ to: "+1000000000" });
    const result = await handler(await deliverAsEvent(sqs, queue, [refused]), consumerContext);
    expect(result.batchItemFailures).toEqual([]);
    const { Records } = await receiveAsEvent(sqs, deadLetters, 1);
    const letter = Records.find((record) => record.body.includes(refused.id));
    expect(letter?.messageAttributes["leadflow.error.code"]?.stringValue).toBe("OutboundRejectedError");
    const reason = letter?.messageAttributes["leadflow.error.message"]?.stringValue;
    expect(reason).toBe(
      "OutboundRejectedError: End User Messaging SMS refused the sms: ValidationException (INVALID_PARAMETER)",
    );
    expect(sentWithId(refused.id)).toEqual([]);
  });
});
