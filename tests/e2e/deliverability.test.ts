import { randomUUID } from "node:crypto";
import { type Lead, type LeadView, reachability, smsKeywordReplies } from "@leadflow/core";
import { dynamoClient } from "@leadflow/local";
import { createNurtureStore } from "@leadflow/store";
import { describe, expect, it } from "vitest";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * Deliverability on the shared local stack: SES events posted to POST /_local/ses-events (as SNS
 * raw delivery would put them on the deliverability queue) and inbound SMS posted to
 * POST /webhooks/sms-inbound as SNS's HTTPS notifications (unsigned: npm start checks no signature).
 */

const client = stackClient();
const store = createNurtureStore({
  client: dynamoClient(client.stack.dynamodbEndpoint),
  tableName: client.stack.tableName,
});
const ourNumber = "+14155550000";

interface Message {
  id: string;
  channel: "email" | "sms";
  to: string;
  from: string;
  text: string;
}

/** A person of their own: an address and a phone no other test uses. */
function person() {
  const tag = `deliv${randomUUID().slice(0, 8)}`;
  const phone = `+1415555${String(8000 + Math.floor(Math.random() * 2000))}`;
  return { email: `${tag}@acme-rockets.com`, first_name: tag, phone };
}

async function capture(fields: Record<string, string>): Promise<LeadView> {
  const delivery = formDelivery(fields, { secret: testSecrets.FORM_SIGNING_SECRET });
  expect((await client.send(delivery)).status).toBe(202);
  let found: LeadView | undefined;
  await waitFor(
    async () => {
      found = (await client.leadsByEmail(fields.email as string))[0];
      return found !== undefined;
    },
    30_000,
    "the lead to be stored",
  );
  return found as LeadView;
}

async function postSesEvents(body: unknown) {
  const response = await fetch(`${client.url}/_local/ses-events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The `mail` object of an SES event, as event publishing writes it (tags as arrays of values). */
function mail(messageId: string, to: string, tags: Record<string, string[]> = {}) {
  return {
    timestamp: new Date().toISOString(),
    source: "Acme <hello@acme.example>",
    sourceArn: "arn:aws:ses:us-east-1:123456789012:identity/acme.example",
    sendingAccountId: "123456789012",
    messageId,
    destination: [to],
    headersTruncated: false,
    tags: { "ses:configuration-set": ["local-leadflow-email"], ...tags },
  };
}

/** An SNS HTTPS notification carrying End User Messaging's inbound SMS payload. */
function inboundSms(from: string, messageBody: string, inboundMessageId = randomUUID()) {
  return {
    Type: "Notification",
    MessageId: randomUUID(),
    TopicArn: "arn:aws:sns:us-east-1:123456789012:leadflow-inbound-sms",
    Message: JSON.stringify({
      originationNumber: from,
      destinationNumber: ourNumber,
      messageKeyword: "KEYWORD_123456789012",
      messageBody,
      inboundMessageId,
      previousPublishedMessageId: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }),
    Timestamp: new Date().toISOString(),
    SignatureVersion: "1",
    Signature:
      "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
    SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
    UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
  };
}

async function postInboundSms(body: unknown) {
  // SNS posts its JSON as text/plain.
  const response = await fetch(`${client.url}/webhooks/sms-inbound`, {
    method: "POST",
    headers: { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function smsTo(phone: string): Promise<Message[]> {
  const response = await fetch(`${client.url}/_local/messages?channel=sms&to=${encodeURIComponent(phone)}`);
  return ((await response.json()) as { items: Message[] }).items;
}

async function waitForSms(phone: string, count: number): Promise<Message[]> {
  let messages: Message[] = [];
  await waitFor(
    async () => {
      messages = await smsTo(phone);
      return messages.length >= count;
    },
    30_000,
    `${count} SMS to the lead`,
  );
  return messages;
}

/** Lets every queue the message may pass through empty out. */
async function settled() {
  const { queues } = client.stack;
  await waitFor(
    async () =>
      (
        await Promise.all([queues.deliverability.url, queues.events.url, queues.outbound.url].map(client.queueDepth))
      ).every((depth) => depth === 0),
    30_000,
    "the deliverability, events and outbound queues to drain",
  );
}

describe("SES events (POST /_local/ses-events)", () => {
  it("a permanent bounce for a lead's address suppresses it for that lead", async () => {
    const fields = person();
    const lead = await capture(fields);
    const sesMessageId = `local-${randomUUID()}`;
    const bounce = {
      eventType: "Bounce",
      bounce: {
        bounceType: "Permanent",
        bounceSubType: "General",
        bouncedRecipients: [{ emailAddress: fields.email, action: "failed", status: "5.1.1" }],
        timestamp: new Date().toISOString(),
        feedbackId: "0100017-example",
      },
      mail: mail(sesMessageId, fields.email),
    };

    expect(await postSesEvents(bounce)).toEqual({ status: 202, body: { queued: 1 } });

    await waitFor(
      async () => (await store.suppression("email", fields.email)) !== undefined,
      30_000,
      "the suppression",
    );
    expect(await store.suppression("email", fields.email)).toMatchObject({ reason: "bounce", leadId: lead.id });
    expect((await reachability(store, lead as unknown as Lead)).email).toBe("bounced");
  });

  it("an open and a click count once each on the lead, even when SES's events are posted twice", async () => {
    const fields = person();
    const lead = await capture(fields);
    const sesMessageId = `local-${randomUUID()}`;
    const tags = { "leadflow-message-id": ["nurture-local-0"], "leadflow-lead-id": [lead.id] };
    const open = {
      eventType: "Open",
      mail: mail(sesMessageId, fields.email, tags),
      open: { timestamp: new Date().toISOString(), ipAddress: "192.0.2.1", userAgent: "Mozilla/5.0" },
    };
    const click = {
      eventType: "Click",
      mail: mail(sesMessageId, fields.email, tags),
      click: {
        timestamp: new Date().toISOString(),
        link: "https://acme.example/pricing?utm_source=nurture",
        ipAddress: "192.0.2.1",
        userAgent: "Mozilla/5.0",
      },
    };

    expect(await postSesEvents([open, click])).toEqual({ status: 202, body: { queued: 2 } });
    const eventIds = [`ses:${sesMessageId}:open`, `ses:${sesMessageId}:click`];
    const entries = async () =>
      (await client.leadById(lead.id)).history.filter(
        (entry) => entry.type === "lead.event" && eventIds.includes(String(entry.details.eventId)),
      );
    await waitFor(async () => (await entries()).length === 2, 30_000, "both events in the lead's history");
    const scored = await client.leadById(lead.id);

    expect(await postSesEvents([open, click])).toEqual({ status: 202, body: { queued: 2 } });
    await settled();

    const again = await client.leadById(lead.id);
    expect((await entries()).map((entry) => entry.details.type).sort()).toEqual(["email_click", "email_open"]);
    expect(again.score).toEqual(scored.score);
  });

  it("what is not an SES event is refused with 422", async () => {
    expect((await postSesEvents({ eventType: "Open" })).status).toBe(422);
    expect((await postSesEvents([])).status).toBe(422);
  });
});

describe("inbound SMS (POST /webhooks/sms-inbound)", () => {
  it("STOP suppresses the number and is confirmed once; a later form with SMS consent does not undo it; START does; HELP answers", async () => {
    const fields = { ...person(), sms_consent: "yes" };
    const lead = await capture(fields);
    const stop = inboundSms(fields.phone, "Stop");

    expect(await postInboundSms(stop)).toEqual({ status: 200, body: { received: true } });
    expect((await postInboundSms(stop)).status).toBe(200); // SNS delivers again
    const [confirmation] = await waitForSms(fields.phone, 1);
    expect(confirmation).toMatchObject({ from: ourNumber, text: smsKeywordReplies.stop });
    expect(await store.suppression("sms", fields.phone)).toMatchObject({ reason: "stop", leadId: lead.id });

    // The form again, granting SMS consent: the lead's consent is recorded, the STOP stands.
    const delivery = formDelivery(
      { ...fields, first_name: `${fields.first_name}x` },
      { secret: testSecrets.FORM_SIGNING_SECRET },
    );
    expect((await client.send(delivery)).status).toBe(202);
    await client.drained();
    const afterForm = await client.leadById(lead.id);
    expect(afterForm.consent.sms?.granted).toBe(true);
    expect(await store.suppression("sms", fields.phone)).toMatchObject({ reason: "stop" });
    expect((await reachability(store, afterForm as unknown as Lead)).sms).toBe("stopped");
    await settled();
    expect(await smsTo(fields.phone)).toHaveLength(1);

    expect((await postInboundSms(inboundSms(fields.phone, "START"))).status).toBe(200);
    const [, started] = await waitForSms(fields.phone, 2);
    expect(started?.text).toBe(smsKeywordReplies.start);
    expect(await store.suppression("sms", fields.phone)).toBeUndefined();
    expect((await reachability(store, afterForm as unknown as Lead)).sms).toBe("ok");

    expect((await postInboundSms(inboundSms(fields.phone, "help"))).status).toBe(200);
    const [, , help] = await waitForSms(fields.phone, 3);
    expect(help?.text).toBe(smsKeywordReplies.help);
    await settled();
    expect(await smsTo(fields.phone)).toHaveLength(3);
  });

  it("any other text is the lead's reply event", async () => {
    const fields = { ...person(), sms_consent: "yes" };
    const lead = await capture(fields);
    const inboundMessageId = randomUUID();

    expect((await postInboundSms(inboundSms(fields.phone, "Yes, call me tomorrow", inboundMessageId))).status).toBe(
      200,
    );

    await waitFor(
      async () =>
        (await client.leadById(lead.id)).history.some((entry) => entry.details.eventId === `sms:${inboundMessageId}`),
      30_000,
      "the reply in the lead's history",
    );
    expect(await smsTo(fields.phone)).toEqual([]);
  });

  it("a body that is not an SNS message is a 4xx JSON error", async () => {
    const notJson = await postInboundSms("not json");
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ error: { code: "invalid_body" } });
    expect((await postInboundSms({ hello: "world" })).status).toBe(422);
    const notSms = await postInboundSms({ ...inboundSms("+14155558000", "hi"), Message: "hello" });
    expect(notSms).toMatchObject({ status: 422, body: { error: { code: "validation_failed" } } });
  });
});
