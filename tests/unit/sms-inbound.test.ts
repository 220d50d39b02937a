import { createSign, generateKeyPairSync } from "node:crypto";
import {
  type CompiledSequence,
  type EventsMessage,
  handleInboundSms,
  handleSnsDelivery,
  InboundSmsSchema,
  type Lead,
  type OutgoingSms,
  reachability,
  type SnsHttpMessage,
  SnsHttpMessageSchema,
  smsAnswerId,
  smsKeywordReplies,
  snsStringToSign,
  snsUrlAllowed,
} from "@leadflow/core";
import { beforeEach, describe, expect, it } from "vitest";
import { memoryNurtureStore } from "../helpers/memory-nurture.ts";

/**
 * Inbound SMS: End User Messaging's two-way payload (docs.aws.amazon.com/sms-voice/latest/
 * userguide/two-way-sms-payload.html) inside an SNS HTTPS notification (docs.aws.amazon.com/sns/
 * latest/dg/http-notification-json.html), signed as SNS signs it.
 */

const now = new Date("2026-03-02T10:00:00.000Z");
const topicArn = "arn:aws:sns:us-east-1:123456789012:leadflow-inbound-sms";
const leadPhone = "+14255550182";
const ourNumber = "+12125550101";

/** End User Messaging's inbound payload. */
function inbound(messageBody: string, inboundMessageId = "cae173d2-66b9-564c-8309-21f858e9fb84") {
  return {
    originationNumber: leadPhone,
    destinationNumber: ourNumber,
    messageKeyword: "KEYWORD_123456789012",
    messageBody,
    inboundMessageId,
    previousPublishedMessageId: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  };
}

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const certificateUrl =
  "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem";

/** An SNS HTTP(S) message, signed (SignatureVersion 2, SHA256withRSA) with the test key. */
function snsMessage(
  fields: Partial<SnsHttpMessage> & Pick<SnsHttpMessage, "Type" | "Message">,
  version: "1" | "2" = "2",
): SnsHttpMessage {
  const unsigned = SnsHttpMessageSchema.parse({
    MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    TopicArn: topicArn,
    Timestamp: "2026-03-02T09:59:59.000Z",
    SignatureVersion: version,
    SigningCertURL: certificateUrl,
    ...fields,
  });
  const signer = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
  signer.update(snsStringToSign(unsigned));
  return { ...unsigned, Signature: signer.sign(privateKey, "base64") };
}

const notification = (body: string, id?: string) =>
  snsMessage({ Type: "Notification", Message: JSON.stringify(inbound(body, id)) });

const sequence = {
  id: "cold-reactivation",
  digest: "d1",
  reentry: "never",
  exit: ["replied", "unsubscribed", "bounced"],
};
const sequences = {
  all: [sequence as unknown as CompiledSequence],
  byId: (id: string) => (id === sequence.id ? (sequence as unknown as CompiledSequence) : undefined),
};

let memory: ReturnType<typeof memoryNurtureStore>;
let texts: OutgoingSms[];
let events: EventsMessage[];
let fetched: string[];

function deps() {
  return {
    store: memory.store,
    sequences,
    now: () => now,
    findLeadIdByPhone: async (phone: string) => (phone === leadPhone ? "lead-1" : undefined),
    send: async (messages: readonly OutgoingSms[]) => {
      texts.push(...messages);
    },
    sendEvents: async (message: EventsMessage) => {
      events.push(message);
    },
  };
}

const onAws = {
  verifySignatures: true,
  expectedTopicArn: topicArn,
  fetchText: async (url: string) => {
    fetched.push(url);
    return url === certificateUrl
      ? publicKey.export({ type: "spki", format: "pem" }).toString()
      : "<ConfirmSubscriptionResponse/>";
  },
};
const local = { ...onAws, verifySignatures: false, expectedTopicArn: undefined };

beforeEach(() => {
  memory = memoryNurtureStore();
  texts = [];
  events = [];
  fetched = [];
  memory.enrolments.set("lead-1:cold-reactivation", {
    leadId: "lead-1",
    sequenceId: sequence.id,
    enrolmentId: "enr-1",
    digest: sequence.digest,
    status: "active",
    stepIndex: 2,
    dueAt: "2026-03-05T10:00:00.000Z",
    enrolledAt: "2026-03-01T10:00:00.000Z",
    sent: [],
    version: 1,
  });
});

describe("keywords", () => {
  it("STOP suppresses the number (stop) and answers exactly once, from our number, with an id from the inbound message", async () => {
    const sms = InboundSmsSchema.parse(inbound(" Stop. "));
    const outcome = await handleInboundSms(deps(), sms);
    await handleInboundSms(deps(), sms); // SNS delivers again

    expect(outcome).toEqual({ action: "stop", leadId: "lead-1", replyId: smsAnswerId(sms.inboundMessageId, "stop") });
    expect(memory.suppressions.get(`sms:${leadPhone}`)).toEqual({
      channel: "sms",
      address: leadPhone,
      reason: "stop",
      at: now.toISOString(),
      leadId: "lead-1",
    });
    expect(new Set(texts.map((text) => text.id)).size).toBe(1);
    expect(texts[0]).toEqual({
      id: smsAnswerId(sms.inboundMessageId, "stop"),
      purpose: "sms-stop",
      leadId: "lead-1",
      channel: "sms",
      to: leadPhone,
      from: ourNumber,
      text: smsKeywordReplies.stop,
    });
    expect(texts[0]?.id).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    expect(events).toEqual([]);
  });

  it.each(["UNSUBSCRIBE", "cancel", "End", "quit", "opt-out", "Opt Out", "STOPALL", "revoke"])(
    "%s is a STOP",
    async (body) => {
      expect(await handleInboundSms(deps(), InboundSmsSchema.parse(inbound(body)))).toMatchObject({ action: "stop" });
    },
  );

  it("after STOP, a later form that grants SMS consent again does not make the number reachable; START does", async () => {
    await handleInboundSms(deps(), InboundSmsSchema.parse(inbound("STOP", "in-1")));
    const lead = {
      id: "lead-1",
      phone: leadPhone,
      phones: [leadPhone],
      emails: [],
      custom: {},
      consent: { sms: { granted: true, at: now.toISOString(), source: "form" } },
      sources: [],
    } as unknown as Lead;
    expect((await reachability(memory.store, lead)).sms).toBe("stopped");

    const outcome = await handleInboundSms(deps(), InboundSmsSchema.parse(inbound("start", "in-2")));
    expect(outcome).toMatchObject({ action: "start" });
    expect((await reachability(memory.store, lead)).sms).toBe("ok");
    expect(texts.map((text) => text.text)).toEqual([smsKeywordReplies.stop, smsKeywordReplies.start]);
  });

  it("START lifts only a STOP: a number suppressed for another reason stays suppressed", async () => {
    await memory.store.suppress({ channel: "sms", address: leadPhone, reason: "complaint", at: now.toISOString() });
    await handleInboundSms(deps(), InboundSmsSchema.parse(inbound("UNSTOP")));
    expect(memory.suppressions.get(`sms:${leadPhone}`)?.reason).toBe("complaint");
  });

  it("HELP is answered with the help text and changes nothing", async () => {
    expect(await handleInboundSms(deps(), InboundSmsSchema.parse(inbound("help?")))).toMatchObject({ action: "help" });
    expect(texts.map((text) => text.text)).toEqual([smsKeywordReplies.help]);
    expect(memory.suppressions.size).toBe(0);
    expect(memory.enrolments.get("lead-1:cold-reactivation")?.status).toBe("active");
  });

  it("STOP from a number no lead has is suppressed and answered all the same", async () => {
    const sms = InboundSmsSchema.parse({ ...inbound("STOP"), originationNumber: "+14255550999" });
    expect(await handleInboundSms(deps(), sms)).toEqual({ action: "stop", replyId: expect.any(String) });
    expect(memory.suppressions.get("sms:+14255550999")?.reason).toBe("stop");
  });
});

describe("replies", () => {
  it("any other text is the lead's reply event (sms:<inboundMessageId>) and ends the sequences that exit on a reply", async () => {
    const outcome = await handleInboundSms(deps(), InboundSmsSchema.parse(inbound("Stop texting me, call me instead")));

    expect(outcome).toEqual({
      action: "reply",
      leadId: "lead-1",
      eventId: "sms:cae173d2-66b9-564c-8309-21f858e9fb84",
      exited: 1,
    });
    expect(events).toEqual([
      {
        leadId: "lead-1",
        receivedAt: now.toISOString(),
        events: [
          {
            id: "sms:cae173d2-66b9-564c-8309-21f858e9fb84",
            type: "reply",
            at: now.toISOString(),
            properties: { channel: "sms", text: "Stop texting me, call me instead" },
          },
        ],
      },
    ]);
    expect(memory.enrolments.get("lead-1:cold-reactivation")).toMatchObject({
      status: "exited",
      exitReason: "replied",
    });
    expect(texts).toEqual([]);
    expect(memory.suppressions.size).toBe(0);
  });

  it("a reply from a number no lead has is ignored", async () => {
    const sms = InboundSmsSchema.parse({ ...inbound("YES"), originationNumber: "+14255550999" });
    expect(await handleInboundSms(deps(), sms)).toMatchObject({ action: "ignored" });
    expect(events).toEqual([]);
  });
});

describe("the SNS envelope", () => {
  it("on AWS, a correctly signed notification from the expected topic is acted on (SignatureVersion 1 and 2)", async () => {
    for (const version of ["1", "2"] as const) {
      const message = snsMessage({ Type: "Notification", Message: JSON.stringify(inbound("HELP")) }, version);
      expect(await handleSnsDelivery(deps(), message, onAws)).toMatchObject({
        type: "Notification",
        outcome: { action: "help" },
      });
    }
    expect(fetched).toEqual([certificateUrl]); // fetched once, then cached
  });

  it("on AWS, a message whose text or signature was changed is refused as a signature failure (401)", async () => {
    const genuine = notification("HELP");
    const tampered = { ...genuine, Message: JSON.stringify(inbound("STOP")) };
    await expect(handleSnsDelivery(deps(), tampered, onAws)).rejects.toMatchObject({ code: "invalid_signature" });
    const { Signature: _signature, ...unsigned } = genuine;
    await expect(handleSnsDelivery(deps(), unsigned, onAws)).rejects.toMatchObject({ code: "invalid_signature" });
    expect(memory.suppressions.size).toBe(0);
  });

  it("on AWS, another topic, an unset SMS_INBOUND_TOPIC_ARN or a certificate from elsewhere are refused before anything is fetched", async () => {
    const foreign = snsMessage({
      Type: "Notification",
      Message: JSON.stringify(inbound("STOP")),
      TopicArn: "arn:aws:sns:us-east-1:999999999999:someone-else",
    });
    await expect(handleSnsDelivery(deps(), foreign, onAws)).rejects.toMatchObject({ code: "invalid_signature" });
    await expect(
      handleSnsDelivery(deps(), notification("STOP"), { ...onAws, expectedTopicArn: undefined }),
    ).rejects.toMatchObject({ code: "invalid_signature" });
    const elsewhere = snsMessage({
      Type: "Notification",
      Message: JSON.stringify(inbound("STOP")),
      SigningCertURL: "https://attacker.example/sns.us-east-1.amazonaws.com.pem",
    });
    await expect(handleSnsDelivery(deps(), elsewhere, onAws)).rejects.toMatchObject({ code: "invalid_signature" });
    expect(fetched).toEqual([]);
    expect(memory.suppressions.size).toBe(0);
  });

  it("only https://sns.<the topic's region>.amazonaws.com/ is SNS's", () => {
    expect(snsUrlAllowed(certificateUrl, topicArn)).toBe(true);
    expect(snsUrlAllowed("http://sns.us-east-1.amazonaws.com/x.pem", topicArn)).toBe(false);
    expect(snsUrlAllowed("https://sns.eu-west-1.amazonaws.com/x.pem", topicArn)).toBe(false);
    expect(snsUrlAllowed("https://sns.us-east-1.amazonaws.com.attacker.example/x.pem", topicArn)).toBe(false);
    expect(snsUrlAllowed("https://user@sns.us-east-1.amazonaws.com/x.pem", topicArn)).toBe(false);
  });

  it("on AWS, a subscription confirmation for the expected topic is confirmed by fetching its SubscribeURL", async () => {
    const subscribeUrl =
      "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:leadflow-inbound-sms&Token=2336412f37";
    const confirmation = snsMessage({
      Type: "SubscriptionConfirmation",
      Message: "You have chosen to subscribe to the topic …",
      SubscribeURL: subscribeUrl,
      Token: "2336412f37",
    });
    expect(await handleSnsDelivery(deps(), confirmation, onAws)).toEqual({
      type: "SubscriptionConfirmation",
      confirmed: true,
    });
    expect(fetched).toContain(subscribeUrl);

    const foreign = snsMessage({
      Type: "SubscriptionConfirmation",
      Message: "…",
      SubscribeURL: subscribeUrl,
      Token: "2336412f37",
      TopicArn: "arn:aws:sns:us-east-1:999999999999:someone-else",
    });
    fetched = [];
    await expect(handleSnsDelivery(deps(), foreign, onAws)).rejects.toMatchObject({ code: "invalid_signature" });
    expect(fetched).toEqual([]);
  });

  it("under npm start nothing is verified or fetched, and a subscription is never confirmed", async () => {
    const { Signature: _signature, ...unsigned } = notification("STOP");
    expect(await handleSnsDelivery(deps(), unsigned, local)).toMatchObject({ outcome: { action: "stop" } });
    const confirmation = snsMessage({
      Type: "SubscriptionConfirmation",
      Message: "…",
      SubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
      Token: "t",
    });
    expect(await handleSnsDelivery(deps(), confirmation, local)).toEqual({
      type: "SubscriptionConfirmation",
      confirmed: false,
    });
    expect(fetched).toEqual([]);
  });

  it("a notification whose Message is not End User Messaging's JSON is refused (422)", async () => {
    const message = snsMessage({ Type: "Notification", Message: "hello" });
    await expect(handleSnsDelivery(deps(), message, local)).rejects.toMatchObject({ code: "validation_failed" });
    const noNumber = snsMessage({
      Type: "Notification",
      Message: JSON.stringify({ ...inbound("HI"), originationNumber: "12" }),
    });
    await expect(handleSnsDelivery(deps(), noNumber, local)).rejects.toMatchObject({ code: "validation_failed" });
  });
});
