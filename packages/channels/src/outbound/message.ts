import { createHash } from "node:crypto";
import { SendWindowSchema, timeZoneSchema } from "@leadflow/core";
import { z } from "zod";

/**
 * One email or one SMS, as producers put it on the `outbound` queue. Email and SMS are separate
 * messages, so each is retried on its own. `id` makes sending idempotent: a message whose id was
 * sent is never sent again (see `deliverOnce`). Producers build ids from what makes a message
 * unique (`outboundMessageId("alert", alertId, "sms")`), so a retried producer enqueues the same id.
 */

/** Letters, digits, `_` and `-`: usable as an SES message tag, an SMS context value and a table key. */
const tagSafe = /^[A-Za-z0-9_-]+$/;

const id = z.string().min(1).max(128).regex(tagSafe, "may hold only letters, digits, _ and -");
const purpose = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, "is a label of lower-case letters, digits, _ and - (e.g. speed-to-lead-alert)");
const singleLine = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !/[\r\n]/.test(value), "must be a single line");

/** `ada@example.com`, or with a display name: `Leadflow Alerts <alerts@example.com>`. */
const mailbox = singleLine(320).refine(
  (value) => /^(?:[^<>]*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/.test(value),
  "is not an email address (`name@example.com` or `Name <name@example.com>`)",
);

/** Header names SES sets itself from the message's fields, or that would change its structure. */
export const reservedHeaderNames: ReadonlySet<string> = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "reply-to",
  "sender",
  "date",
  "message-id",
  "return-path",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
]);

/** SES v2 `MessageHeader`: printable ASCII, no colon in the name, at most 15 headers. */
const headerName = /^[!-9;-~]{1,126}$/;
const headers = z
  .record(z.string(), z.string().regex(/^[ -~]{1,870}$/, "must be printable ASCII on one line, up to 870 characters"))
  .superRefine((value, context) => {
    const names = Object.keys(value);
    if (names.length > 15) context.addIssue({ code: "custom", message: "SES takes at most 15 custom headers" });
    for (const name of names) {
      if (!headerName.test(name))
        context.addIssue({ code: "custom", path: [name], message: "is not a header name (printable ASCII, no `:`)" });
      else if (reservedHeaderNames.has(name.toLowerCase()))
        context.addIssue({ code: "custom", path: [name], message: "is set by leadflow itself" });
    }
  });

const common = {
  id,
  /** What the message is for, in logs and reports: `speed-to-lead-alert`, `nurture-step`… */
  purpose,
  /** The lead it is about, when there is one (never the recipient's address: logs show this). */
  leadId: z.string().min(1).max(128).optional(),
  /**
   * A marketing message (nurture), checked again just before it goes (`checkBeforeSending`):
   * dropped if its address was suppressed since, held while its windows do not hold in every zone.
   */
  marketing: z
    .strictObject({
      zones: z.array(timeZoneSchema).min(1).max(64),
      windows: z.array(SendWindowSchema).min(1).max(4),
    })
    .optional(),
};

export const OutboundEmailSchema = z.object({
  ...common,
  channel: z.literal("email"),
  to: z.email(),
  /** A verified SES identity (address, or an address of a verified domain), optionally with a name. */
  from: mailbox,
  subject: singleLine(998),
  text: z.string().min(1),
  html: z.string().min(1).optional(),
  /** Custom headers, e.g. `List-Unsubscribe`; SES keeps them with Simple content. */
  headers: headers.default({}),
});

export const OutboundSmsSchema = z.object({
  ...common,
  channel: z.literal("sms"),
  /** E.164. */
  to: z.string().regex(/^\+[1-9]\d{6,14}$/, "is not an E.164 phone number (+14155550100)"),
  /** Origination identity: a phone number (E.164), sender ID, pool, or their id or ARN. */
  from: z.string().regex(/^[A-Za-z0-9+_:/.-]{1,256}$/, "is not an origination identity"),
  /** End User Messaging splits long texts into parts (and bills each); it takes up to 1,600 characters. */
  text: z.string().min(1).max(1600),
});

export const OutboundMessageSchema = z.discriminatedUnion("channel", [OutboundEmailSchema, OutboundSmsSchema]);

export type OutboundEmail = z.infer<typeof OutboundEmailSchema>;
export type OutboundSms = z.infer<typeof OutboundSmsSchema>;
export type OutboundMessage = z.infer<typeof OutboundMessageSchema>;
/** What producers write: `headers` may be left out. */
export type OutboundMessageInput = z.input<typeof OutboundMessageSchema>;
export type MessageChannel = OutboundMessage["channel"];

/**
 * A stable message id from the parts that make the message unique (any text), in the characters
 * ids allow: the same parts always give the same id, so a producer that runs again (a retry, a
 * redelivered trigger) enqueues a message the sender recognises.
 */
export function outboundMessageId(...parts: readonly string[]): string {
  if (parts.length === 0) throw new Error("outboundMessageId needs at least one part");
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 32);
}
