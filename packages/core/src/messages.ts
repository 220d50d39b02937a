/**
 * An email or an SMS the domain wants sent: what producers hand to the outbound queue (channels'
 * `OutboundMessageSchema` checks it there). Sent once per `id` (letters, digits, `_`, `-`);
 * `purpose` labels it in logs and reports; `leadId` says who it is about (never the address).
 */
interface OutgoingBase {
  id: string;
  purpose: string;
  leadId?: string;
  to: string;
  from: string;
  text: string;
  /**
   * A marketing message (nurture): checked again just before it goes, as queues can be late. It
   * is dropped if its address was suppressed since, and waits while its windows do not hold in
   * every zone (`windowHolds`).
   */
  marketing?: { zones: string[]; windows: { days: number[]; from: number; to: number }[] };
}

export type OutgoingEmail = OutgoingBase & {
  channel: "email";
  subject: string;
  html?: string;
  headers?: Record<string, string>;
};

export type OutgoingSms = OutgoingBase & { channel: "sms" };

export type OutgoingMessage = OutgoingEmail | OutgoingSms;

/**
 * A message that may not go yet: the outbound consumer puts it back on its queue until `retryAt`
 * (at most SQS's 12 hours at a time), and it is tried again then.
 */
export class SendLaterError extends Error {
  override readonly name = "SendLaterError";
  readonly retryAfterSeconds: number;

  constructor(messageId: string, retryAt: Date, now: Date) {
    super(`Message ${messageId} waits until ${retryAt.toISOString()}`);
    this.retryAfterSeconds = Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000));
  }
}
