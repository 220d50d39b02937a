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
}

export type OutgoingEmail = OutgoingBase & {
  channel: "email";
  subject: string;
  html?: string;
  headers?: Record<string, string>;
};

export type OutgoingSms = OutgoingBase & { channel: "sms" };

export type OutgoingMessage = OutgoingEmail | OutgoingSms;
