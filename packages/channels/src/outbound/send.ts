import { type PinpointSMSVoiceV2Client, SendTextMessageCommand } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { type SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import type { MessageChannel, OutboundEmail, OutboundMessage, OutboundSms } from "./message.ts";

/** The SDK clients a sender needs, built by packages/lambda's client factory (or a test). */
export interface OutboundClients {
  email: Pick<SESv2Client, "send">;
  sms: Pick<PinpointSMSVoiceV2Client, "send">;
  /**
   * The SES configuration set every email is sent with (SES_CONFIGURATION_SET): it publishes
   * bounces, complaints, opens and clicks to the deliverability queue. None when unset.
   */
  emailConfigurationSet?: string | undefined;
}

export interface SendResult {
  /** The provider's id for the message (SES MessageId, End User Messaging MessageId). */
  providerMessageId: string;
}

/**
 * The provider refused the message and would refuse it again (a rejected or invalid address, an
 * unverified sender, missing permission): retrying cannot help, so the queue consumer dead-letters
 * it with this reason. The provider's own message is left out: it may quote the address.
 */
export class OutboundRejectedError extends Error {
  override readonly name = "OutboundRejectedError";
  readonly code = "outbound_rejected";
  readonly permanent = true;
}

/** The provider could not take the message now (throttling, a 5xx, the network): retried later. */
export class OutboundUnavailableError extends Error {
  override readonly name = "OutboundUnavailableError";
  readonly code = "outbound_unavailable";
  readonly permanent = false;
}

/** Tag and context names that carry leadflow's ids to SES and End User Messaging events. */
export const providerTags = {
  messageId: "leadflow-message-id",
  purpose: "leadflow-purpose",
  leadId: "leadflow-lead-id",
} as const;

/** SES tag values: ASCII letters, digits, `_` and `-`, up to 256 characters. */
const tagValue = /^[A-Za-z0-9_-]{1,256}$/;

/** leadflow's ids as SES tags / SMS context: the message, its purpose and (when it has one) the lead. */
function providerIds(message: OutboundMessage): [string, string][] {
  return [
    [providerTags.messageId, message.id],
    [providerTags.purpose, message.purpose],
    // SES events name the lead by it (functions/nurture/ses-events.ts); a lead id SES would refuse is left out.
    ...(message.leadId && tagValue.test(message.leadId)
      ? [[providerTags.leadId, message.leadId] as [string, string]]
      : []),
  ];
}

/** Sends one message with its channel's provider; errors come back classified (see `classifySendError`). */
export async function sendOutbound(message: OutboundMessage, clients: OutboundClients): Promise<SendResult> {
  try {
    return message.channel === "email"
      ? await sendEmail(message, clients.email, clients.emailConfigurationSet)
      : await sendSms(message, clients.sms);
  } catch (error) {
    throw classifySendError(message.channel, error);
  }
}

async function sendEmail(
  message: OutboundEmail,
  client: OutboundClients["email"],
  configurationSet: string | undefined,
): Promise<SendResult> {
  const headers = Object.entries(message.headers).map(([Name, Value]) => ({ Name, Value }));
  const utf8 = (Data: string) => ({ Data, Charset: "UTF-8" });
  const { MessageId } = await client.send(
    new SendEmailCommand({
      FromEmailAddress: message.from,
      Destination: { ToAddresses: [message.to] },
      Content: {
        // Simple content keeps custom headers (Raw would need us to build the MIME ourselves).
        Simple: {
          Subject: utf8(message.subject),
          Body: { Text: utf8(message.text), ...(message.html ? { Html: utf8(message.html) } : {}) },
          ...(headers.length > 0 ? { Headers: headers } : {}),
        },
      },
      EmailTags: providerIds(message).map(([Name, Value]) => ({ Name, Value })),
      ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
    }),
  );
  return { providerMessageId: MessageId ?? "" };
}

async function sendSms(message: OutboundSms, client: OutboundClients["sms"]): Promise<SendResult> {
  const { MessageId } = await client.send(
    new SendTextMessageCommand({
      OriginationIdentity: message.from,
      DestinationPhoneNumber: message.to,
      MessageBody: message.text,
      Context: Object.fromEntries(providerIds(message)),
    }),
  );
  return { providerMessageId: MessageId ?? "" };
}

/**
 * Client-side faults that pass with time: throttling and quotas (sending rate, daily quota,
 * monthly SMS spend). Any other 4xx is the message's or the account's fault and is permanent.
 */
const passingClientErrors = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "LimitExceededException",
  "ServiceQuotaExceededException",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/**
 * A provider error as leadflow's own: `OutboundRejectedError` (permanent) for a client fault the
 * provider would repeat (SES `MessageRejected`, `BadRequestException`, an unverified sender,
 * End User Messaging `ValidationException` for an invalid number, `ConflictException` for an
 * opted-out one, `AccessDenied…`); `OutboundUnavailableError` for throttling, quotas, 5xx and
 * network failures. The message names the error and its reason code, never its text.
 */
export function classifySendError(
  channel: MessageChannel,
  error: unknown,
): OutboundRejectedError | OutboundUnavailableError {
  if (error instanceof OutboundRejectedError || error instanceof OutboundUnavailableError) return error;
  const { name, fault, reason } = describeProviderError(error);
  const provider = channel === "email" ? "SES" : "End User Messaging SMS";
  const what = `${name}${reason ? ` (${reason})` : ""}`;
  if (fault === "client" && !passingClientErrors.has(name)) {
    return new OutboundRejectedError(`${provider} refused the ${channel}: ${what}`, { cause: error });
  }
  return new OutboundUnavailableError(`${provider} could not take the ${channel} now: ${what}`, { cause: error });
}

function describeProviderError(error: unknown): {
  name: string;
  fault: string | undefined;
  reason: string | undefined;
} {
  const details = (error ?? {}) as { name?: unknown; $fault?: unknown; Reason?: unknown; code?: unknown };
  const name = typeof details.name === "string" ? details.name : "Error";
  const fault = typeof details.$fault === "string" ? details.$fault : undefined;
  // End User Messaging's reason codes (e.g. DESTINATION_PHONE_NUMBER_OPTED_OUT); Node's network codes.
  const reason =
    typeof details.Reason === "string" ? details.Reason : typeof details.code === "string" ? details.code : undefined;
  return { name, fault, reason };
}
