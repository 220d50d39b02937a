import type { OutboundMessage } from "./message.ts";
import { type OutboundClients, type SendResult, sendOutbound } from "./send.ts";

/**
 * Where sending is recorded, one item per message id (packages/store implements it with single-item
 * conditional writes). A claim is held for `leaseSeconds`: long enough for one send.
 */
export interface OutboundLedger {
  /**
   * Takes the message for sending: `claimed` (with a token for the calls below), `sent` when
   * its id was sent before, `busy` while another delivery of it holds an unexpired claim.
   */
  claim(message: OutboundMessage, leaseSeconds: number): Promise<LedgerClaim>;
  markSent(id: string, token: string, result: SendResult): Promise<void>;
  /** Gives the claim up after a failed send, so the next delivery may send at once. */
  release(id: string, token: string, reason: string): Promise<void>;
}

export type LedgerClaim = { status: "claimed"; token: string } | { status: "sent" } | { status: "busy" };

/** Another delivery of the same message is sending it now: retried later, when it has finished. */
export class OutboundBusyError extends Error {
  override readonly name = "OutboundBusyError";
  readonly code = "outbound_busy";
  readonly permanent = false;
}

/**
 * `recorded: false`: sent, but marking it failed (the table was unreachable); the message is
 * acknowledged anyway, since retrying it would certainly send it again.
 */
export type DeliveryOutcome =
  | { status: "sent"; providerMessageId: string; recorded: boolean }
  | { status: "already-sent" };

/**
 * Sends a message at most once per id, as far as the provider allows: claim, send, mark sent.
 * A redelivered message whose id is marked sent is not sent again. The one window left: a send
 * the provider accepted, followed by a crash before `markSent`, is sent again once the lease
 * expires (neither SES nor End User Messaging takes an idempotency token). A failed send gives
 * its claim up and throws (classified: permanent or not), for the queue to retry or dead-letter.
 */
export async function deliverOnce(
  message: OutboundMessage,
  dependencies: { ledger: OutboundLedger; clients: OutboundClients; leaseSeconds: number },
): Promise<DeliveryOutcome> {
  const { ledger, clients, leaseSeconds } = dependencies;
  const claim = await ledger.claim(message, leaseSeconds);
  if (claim.status === "sent") return { status: "already-sent" };
  if (claim.status === "busy") throw new OutboundBusyError(`Message ${message.id} is being sent by another delivery`);
  let result: SendResult;
  try {
    result = await sendOutbound(message, clients);
  } catch (error) {
    await ledger.release(message.id, claim.token, (error as Error).name);
    throw error;
  }
  const recorded = await ledger.markSent(message.id, claim.token, result).then(
    () => true,
    () => false,
  );
  return { status: "sent", providerMessageId: result.providerMessageId, recorded };
}
