import { createHash, createVerify } from "node:crypto";
import { z } from "zod";
import { SignatureError, ValidationError } from "../errors.ts";
import type { OutgoingSms } from "../messages.ts";
import type { EventsMessage } from "../scoring/events.ts";
import { exitEnrolments, type NurtureDependencies } from "./runner.ts";
import { inboundSmsKeyword, type SmsKeyword } from "./timing.ts";

/**
 * Inbound SMS: AWS End User Messaging (two-way SMS) publishes each text a lead sends to an SNS
 * topic, which posts it to `POST /webhooks/sms-inbound` (an HTTPS subscription). STOP and its
 * family put the number on the suppression list until START; HELP is answered; anything else is
 * the lead's `reply` event and ends the sequences that exit on a reply.
 */

/** An SNS message as SNS posts it to an HTTP(S) endpoint (its body, `Content-Type: text/plain`). */
export const SnsHttpMessageSchema = z.object({
  Type: z.enum(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]),
  MessageId: z.string().min(1).max(128),
  TopicArn: z.string().min(1).max(256),
  Subject: z.string().max(100).nullish(),
  Message: z.string().max(256 * 1024),
  Timestamp: z.string().min(1).max(64),
  SignatureVersion: z.enum(["1", "2"]).optional(),
  Signature: z.string().max(4096).optional(),
  SigningCertURL: z.string().max(2048).optional(),
  SubscribeURL: z.string().max(4096).optional(),
  UnsubscribeURL: z.string().max(4096).optional(),
  Token: z.string().max(4096).optional(),
});
export type SnsHttpMessage = z.infer<typeof SnsHttpMessageSchema>;

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, "is not an E.164 phone number");

/** What End User Messaging publishes for each inbound text (the SNS message's `Message`). */
export const InboundSmsSchema = z.object({
  /** The lead's phone. */
  originationNumber: e164,
  /** Our number, which the lead wrote to: confirmations go back from it. */
  destinationNumber: z.string().regex(/^[A-Za-z0-9+_:/.-]{1,256}$/, "is not an origination identity"),
  messageKeyword: z.string().max(64).optional(),
  messageBody: z.string().max(1600),
  inboundMessageId: z.string().min(1).max(128),
  previousPublishedMessageId: z.string().max(256).optional(),
});
export type InboundSms = z.infer<typeof InboundSmsSchema>;

/** What leadflow answers to a keyword (carriers expect an answer to STOP, START and HELP). */
export const smsKeywordReplies: Readonly<Record<SmsKeyword, string>> = {
  stop: "You are unsubscribed and will get no more text messages from us. Reply START to subscribe again.",
  start: "You are subscribed again to our text messages. Reply STOP to unsubscribe, HELP for help.",
  help: "Messages about your enquiry; message and data rates may apply. Reply STOP to unsubscribe, START to subscribe again.",
};

export interface InboundSmsDependencies extends Pick<NurtureDependencies, "store" | "sequences" | "now"> {
  findLeadIdByPhone(phone: string): Promise<string | undefined>;
  /** Puts SMS on the outbound queue (each id is sent once). */
  send(messages: readonly OutgoingSms[]): Promise<void>;
  /** Puts events on the events queue (each id is counted once). */
  sendEvents(message: EventsMessage): Promise<void>;
}

export type InboundSmsOutcome =
  | { action: SmsKeyword; leadId?: string; replyId: string }
  | { action: "reply"; leadId: string; eventId: string; exited: number }
  | { action: "ignored"; why: string };

/** The outbound id of the answer to one inbound message: the same delivery answered once. */
export function smsAnswerId(inboundMessageId: string, keyword: SmsKeyword): string {
  const digest = createHash("sha256")
    .update(JSON.stringify(["sms-inbound", inboundMessageId, keyword]))
    .digest();
  return `sms-${keyword}-${digest.toString("base64url").slice(0, 32)}`;
}

/** Acts on one inbound text (see the top of this file). */
export async function handleInboundSms(deps: InboundSmsDependencies, sms: InboundSms): Promise<InboundSmsOutcome> {
  const phone = sms.originationNumber;
  const keyword = inboundSmsKeyword(sms.messageBody);
  const leadId = await deps.findLeadIdByPhone(phone);
  const at = deps.now().toISOString();
  if (keyword) {
    if (keyword === "stop") {
      // Kept until START: a later form that grants SMS consent again does not lift it.
      await deps.store.suppress({ channel: "sms", address: phone, reason: "stop", at, ...(leadId ? { leadId } : {}) });
    } else if (keyword === "start") {
      await deps.store.liftSuppression("sms", phone, ["stop"]);
    }
    const replyId = smsAnswerId(sms.inboundMessageId, keyword);
    await deps.send([
      {
        id: replyId,
        purpose: `sms-${keyword}`,
        ...(leadId ? { leadId } : {}),
        channel: "sms",
        to: phone,
        from: sms.destinationNumber,
        text: smsKeywordReplies[keyword],
      },
    ]);
    return { action: keyword, ...(leadId ? { leadId } : {}), replyId };
  }
  if (!leadId) return { action: "ignored", why: "no lead has this phone" };
  const eventId = `sms:${sms.inboundMessageId}`;
  await deps.sendEvents({
    leadId,
    receivedAt: at,
    events: [
      {
        id: eventId,
        type: "reply",
        at,
        // The text is kept for a person to read (in the table, never in logs).
        properties: { channel: "sms", text: sms.messageBody.slice(0, 2000) },
      },
    ],
  });
  const exited = await exitEnrolments(deps, leadId, "replied");
  return { action: "reply", leadId, eventId, exited };
}

// --- the SNS envelope -------------------------------------------------------------------------

export interface SnsDeliveryOptions {
  /** On AWS: every message must carry a valid SNS signature (`verifySnsSignature`). */
  verifySignatures: boolean;
  /** The topic the inbound SMS come from (SMS_INBOUND_TOPIC_ARN); required when verifying. */
  expectedTopicArn: string | undefined;
  /** Fetches a URL over HTTPS and answers its text: the signing certificate, SubscribeURL. */
  fetchText(url: string): Promise<string>;
}

export type SnsDeliveryOutcome =
  | { type: "Notification"; outcome: InboundSmsOutcome }
  | { type: "SubscriptionConfirmation"; confirmed: boolean }
  | { type: "UnsubscribeConfirmation" };

/**
 * One SNS HTTP(S) delivery: checked (topic, then signature, when verifying), then a subscription
 * confirmed (on AWS only, and only for the expected topic) or the inbound text acted on. A forged
 * or foreign message is a `SignatureError` (401); a notification that is not End User
 * Messaging's JSON, a `ValidationError` (422).
 */
export async function handleSnsDelivery(
  deps: InboundSmsDependencies,
  message: SnsHttpMessage,
  options: SnsDeliveryOptions,
): Promise<SnsDeliveryOutcome> {
  if (options.verifySignatures) {
    if (!options.expectedTopicArn) {
      throw new SignatureError("This deployment expects no inbound SMS topic (SMS_INBOUND_TOPIC_ARN is not set)");
    }
    if (message.TopicArn !== options.expectedTopicArn) throw new SignatureError("The message is from another topic");
    await verifySnsSignature(message, options.fetchText);
  } else if (options.expectedTopicArn && message.TopicArn !== options.expectedTopicArn) {
    throw new SignatureError("The message is from another topic");
  }
  switch (message.Type) {
    case "SubscriptionConfirmation": {
      if (!options.verifySignatures) return { type: message.Type, confirmed: false };
      const url = message.SubscribeURL;
      if (!url || !snsUrlAllowed(url, message.TopicArn)) throw new SignatureError("SubscribeURL is not SNS's");
      await options.fetchText(url);
      return { type: message.Type, confirmed: true };
    }
    case "UnsubscribeConfirmation":
      return { type: message.Type };
    case "Notification": {
      const parsed = InboundSmsSchema.safeParse(parseJsonOrUndefined(message.Message));
      if (!parsed.success) throw ValidationError.fromZod(parsed.error, "Message is not an inbound SMS");
      return { type: message.Type, outcome: await handleInboundSms(deps, parsed.data) };
    }
  }
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The region of a topic ARN (`arn:aws:sns:<region>:<account>:<name>`). */
function regionOf(topicArn: string): string | undefined {
  return /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_.-]+$/.exec(topicArn)?.[1];
}

/** Only `https://sns.<the topic's region>.amazonaws.com/…`: a certificate or URL from anywhere else is refused. */
export function snsUrlAllowed(url: string, topicArn: string): boolean {
  const region = regionOf(topicArn);
  if (!region) return false;
  try {
    const parsed = new URL(url);
    return (
      parsed.protocol === "https:" &&
      parsed.hostname === `sns.${region}.amazonaws.com` &&
      parsed.port === "" &&
      parsed.username === "" &&
      parsed.password === ""
    );
  } catch {
    return false;
  }
}

/** The fields SNS signs, in order, for each message type (AWS: "Verifying the signatures of Amazon SNS messages"). */
const signedFields: Readonly<Record<SnsHttpMessage["Type"], readonly (keyof SnsHttpMessage)[]>> = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
  UnsubscribeConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
};

/** The string SNS signs: each field present as `name\nvalue\n` (a Notification's Subject only when set). */
export function snsStringToSign(message: SnsHttpMessage): string {
  return signedFields[message.Type]
    .filter((field) => message[field] !== undefined && message[field] !== null)
    .map((field) => `${field}\n${message[field]}\n`)
    .join("");
}

const certificates = new Map<string, Promise<string>>();

/**
 * Checks the message's signature with SNS's certificate from `SigningCertURL` (fetched once per
 * URL and process, and only from `https://sns.<region>.amazonaws.com/`): SHA1withRSA for
 * SignatureVersion 1, SHA256withRSA for 2. Throws `SignatureError` otherwise.
 */
export async function verifySnsSignature(
  message: SnsHttpMessage,
  fetchText: (url: string) => Promise<string>,
): Promise<void> {
  const { Signature, SigningCertURL, SignatureVersion } = message;
  if (!Signature || !SigningCertURL || !SignatureVersion) throw new SignatureError("The message is not signed");
  if (!SigningCertURL.endsWith(".pem") || !snsUrlAllowed(SigningCertURL, message.TopicArn)) {
    throw new SignatureError("The signing certificate is not SNS's");
  }
  let certificate = certificates.get(SigningCertURL);
  if (!certificate) {
    certificate = fetchText(SigningCertURL);
    certificates.set(SigningCertURL, certificate);
    certificate.catch(() => certificates.delete(SigningCertURL));
  }
  const verifier = createVerify(SignatureVersion === "1" ? "RSA-SHA1" : "RSA-SHA256");
  verifier.update(snsStringToSign(message), "utf8");
  let valid = false;
  try {
    valid = verifier.verify(await certificate, Signature, "base64");
  } catch {
    valid = false;
  }
  if (!valid) throw new SignatureError("The SNS signature does not match");
}
