import { z } from "zod";
import type { EventsMessage } from "../scoring/events.ts";
import { exitEnrolments, type NurtureDependencies } from "./runner.ts";

/**
 * What SES tells about the email leadflow sent (event publishing through the configuration set,
 * SNS topic, the `deliverability` queue): a permanent bounce or a complaint takes the address off
 * every marketing send and ends the lead's sequences; an open or a click becomes the lead's
 * `email_open` / `email_click` event, counted once per message. Everything else is ignored.
 */

/** SES message tags that carry leadflow's ids (packages/channels `providerTags`). */
export const sesTags = { messageId: "leadflow-message-id", leadId: "leadflow-lead-id" } as const;

const recipient = z.object({ emailAddress: z.string().min(1).max(320) });
const timestamp = z.iso.datetime({ offset: true });

/** The `mail` object of every SES event: the message that produced it. */
const SesMailSchema = z.object({
  messageId: z.string().min(1).max(256),
  timestamp: timestamp.optional(),
  destination: z.array(z.string()).optional(),
  /** Event publishing sends each tag as a list of values: `{ "leadflow-message-id": ["…"] }`. */
  tags: z.record(z.string(), z.array(z.string())).optional(),
});

/**
 * One SES event as event publishing writes it to SNS (`eventType`; an identity's feedback
 * notifications, which name it `notificationType`, are read the same way). Only the fields
 * leadflow uses are checked; SES adds others (headers, diagnostic codes) that pass through.
 */
export const SesEventSchema = z.preprocess(
  (value) =>
    value && typeof value === "object" && !("eventType" in value) && "notificationType" in value
      ? { ...value, eventType: (value as { notificationType: unknown }).notificationType }
      : value,
  z.object({
    eventType: z.string().min(1).max(64),
    mail: SesMailSchema,
    bounce: z
      .object({
        bounceType: z.string(),
        bounceSubType: z.string().optional(),
        bouncedRecipients: z.array(recipient).min(1),
        timestamp: timestamp.optional(),
      })
      .optional(),
    complaint: z
      .object({
        complainedRecipients: z.array(recipient).min(1),
        complaintFeedbackType: z.string().optional(),
        timestamp: timestamp.optional(),
      })
      .optional(),
    open: z.object({ timestamp }).optional(),
    click: z.object({ timestamp, link: z.string().max(4096).optional() }).optional(),
  }),
);
export type SesEvent = z.infer<typeof SesEventSchema>;

/** An SNS notification envelope (raw message delivery off): its `Message` is the SES event's JSON. */
const SnsEnvelopeSchema = z.object({
  Type: z.literal("Notification"),
  MessageId: z.string().optional(),
  TopicArn: z.string().optional(),
  Message: z.string(),
});

/**
 * A message of the `deliverability` queue: the SES event itself (raw delivery), or the SNS
 * envelope around it.
 */
export const DeliverabilityMessageSchema = z.union([
  SesEventSchema,
  SnsEnvelopeSchema.transform((envelope, context) => {
    try {
      return JSON.parse(envelope.Message) as unknown;
    } catch {
      context.addIssue({ code: "custom", path: ["Message"], message: "is not JSON" });
      return z.NEVER;
    }
  }).pipe(SesEventSchema),
]);

export interface DeliverabilityDependencies extends Pick<NurtureDependencies, "store" | "sequences" | "now"> {
  /** The lead whose (lower-cased) email this is, if any. */
  findLeadIdByEmail(email: string): Promise<string | undefined>;
  /** Puts the events on the events queue, where scoring counts each id once. */
  sendEvents(message: EventsMessage): Promise<void>;
}

export type DeliverabilityOutcome =
  | { action: "suppressed"; eventType: string; reason: "bounce" | "complaint"; leadIds: string[]; exited: number }
  | { action: "engagement"; eventType: string; eventId: string; leadId: string; messageId?: string }
  | { action: "ignored"; eventType: string; why: string; leadId?: string };

/** The first value of a tag of the message, when SES published it. */
export function sesTag(event: Pick<SesEvent, "mail">, name: string): string | undefined {
  return event.mail.tags?.[name]?.[0] || undefined;
}

/** Acts on one SES event (see the top of this file); the outcome says what was done, for the log. */
export async function handleSesEvent(
  deps: DeliverabilityDependencies,
  event: SesEvent,
): Promise<DeliverabilityOutcome> {
  const { eventType } = event;
  const taggedLead = sesTag(event, sesTags.leadId);
  const messageId = sesTag(event, sesTags.messageId);
  switch (eventType) {
    case "Bounce": {
      const bounce = event.bounce;
      if (!bounce) return { action: "ignored", eventType, why: "no bounce object" };
      // Transient bounces (a full mailbox, a server down) pass: SES has already retried.
      if (bounce.bounceType !== "Permanent") {
        return { action: "ignored", eventType, why: `${bounce.bounceType} bounce`, ...lead(taggedLead) };
      }
      return suppressRecipients(deps, event, bounce.bouncedRecipients, "bounce", "bounced", taggedLead);
    }
    case "Complaint": {
      const complaint = event.complaint;
      if (!complaint) return { action: "ignored", eventType, why: "no complaint object" };
      return suppressRecipients(deps, event, complaint.complainedRecipients, "complaint", "unsubscribed", taggedLead);
    }
    case "Open":
    case "Click": {
      const detail = eventType === "Open" ? event.open : event.click;
      if (!detail) return { action: "ignored", eventType, why: `no ${eventType.toLowerCase()} object` };
      // Following the unsubscribe link is not interest: it must not score, nor take a `clicked` branch.
      if (eventType === "Click" && isUnsubscribeLink(event.click?.link)) {
        return { action: "ignored", eventType, why: "the unsubscribe link" };
      }
      const recipient = event.mail.destination?.[0];
      const leadId = taggedLead ?? (recipient ? await deps.findLeadIdByEmail(recipient.toLowerCase()) : undefined);
      if (!leadId) return { action: "ignored", eventType, why: "no lead for this message" };
      const kind = eventType === "Open" ? "open" : "click";
      const eventId = `ses:${event.mail.messageId}:${kind}`;
      const link = event.click?.link ? linkWithoutQuery(event.click.link) : undefined;
      await deps.sendEvents({
        leadId,
        receivedAt: deps.now().toISOString(),
        events: [
          {
            id: eventId,
            type: kind === "open" ? "email_open" : "email_click",
            at: new Date(detail.timestamp).toISOString(),
            properties: {
              ...(messageId ? { messageId } : {}),
              sesMessageId: event.mail.messageId,
              ...(kind === "click" && link ? { link } : {}),
            },
          },
        ],
      });
      return { action: "engagement", eventType, eventId, leadId, ...(messageId ? { messageId } : {}) };
    }
    default:
      return { action: "ignored", eventType, why: "not an event leadflow acts on", ...lead(taggedLead) };
  }
}

async function suppressRecipients(
  deps: DeliverabilityDependencies,
  event: SesEvent,
  recipients: readonly { emailAddress: string }[],
  reason: "bounce" | "complaint",
  exit: "bounced" | "unsubscribed",
  taggedLead: string | undefined,
): Promise<DeliverabilityOutcome> {
  const at = deps.now().toISOString();
  const leadIds = new Set<string>();
  // leadflow sends each email to one recipient: the tagged lead is that recipient's.
  const single = recipients.length === 1 && (event.mail.destination?.length ?? 1) <= 1;
  for (const { emailAddress } of recipients) {
    const address = bareAddress(emailAddress);
    const leadId = (single ? taggedLead : undefined) ?? (await deps.findLeadIdByEmail(address));
    await deps.store.suppress({ channel: "email", address, reason, at, ...(leadId ? { leadId } : {}) });
    if (leadId) leadIds.add(leadId);
  }
  let exited = 0;
  for (const leadId of leadIds) exited += await exitEnrolments(deps, leadId, exit);
  return { action: "suppressed", eventType: event.eventType, reason, leadIds: [...leadIds], exited };
}

/** `Ada <ADA@example.com>` → `ada@example.com`: suppressions are keyed by the lower-cased address. */
function bareAddress(value: string): string {
  return (/<([^<>]+)>/.exec(value)?.[1] ?? value).trim().toLowerCase();
}

/** Our unsubscribe links (`{PUBLIC_URL}/unsubscribe/{token}`), whatever the host they are served on. */
function isUnsubscribeLink(link: string | undefined): boolean {
  if (!link) return false;
  try {
    return /\/unsubscribe\/[A-Za-z0-9_-]+\/?$/.test(new URL(link).pathname);
  } catch {
    return false;
  }
}

/** A clicked link without its query and fragment, which may carry tokens or personal data. */
function linkWithoutQuery(link: string): string | undefined {
  try {
    const url = new URL(link);
    return `${url.origin}${url.pathname}`.slice(0, 2000);
  } catch {
    return undefined;
  }
}

function lead(leadId: string | undefined) {
  return leadId ? { leadId } : {};
}
