import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createEntities } from "./entities.ts";

/** What the ledger keeps of a message (its content stays on the queue); see `OutboundLedger` in channels. */
export interface LedgerMessage {
  id: string;
  channel: "email" | "sms";
  purpose: string;
  leadId?: string | undefined;
}

export type LedgerClaim = { status: "claimed"; token: string } | { status: "sent" } | { status: "busy" };

const rejectQuietly = { response: "none", returnOnConditionCheckFailure: true } as const;

export interface OutboundStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => Date;
}

/**
 * The sent-once ledger of outbound messages (docs/access-patterns.md, "outbound message by id"):
 * every step is one conditional write on the message's own item, so two deliveries of the same
 * message never both hold a live claim, and a message marked sent is never claimed again.
 */
export function createOutboundStore({ client, tableName, now = () => new Date() }: OutboundStoreOptions) {
  const { outboundMessage } = createEntities(client, tableName);

  return {
    /**
     * Takes the message for sending for `leaseSeconds`: `claimed` (with the token the calls below
     * need), `sent` when its id was sent before, `busy` while another delivery holds a live claim.
     */
    async claim(message: LedgerMessage, leaseSeconds: number): Promise<LedgerClaim> {
      const at = now();
      const token = randomUUID();
      const claimed = await outboundMessage
        .put({
          messageId: message.id,
          channel: message.channel,
          purpose: message.purpose,
          ...(message.leadId ? { leadId: message.leadId } : {}),
          state: "sending",
          claimToken: token,
          claimedUntil: new Date(at.getTime() + leaseSeconds * 1000).toISOString(),
        })
        // New, given up after a failed send, or claimed by a delivery whose lease ran out (it crashed).
        .where(
          ({ messageId, state, claimedUntil }, { notExists, eq, lt }) =>
            `${notExists(messageId)} OR ${eq(state, "failed")} OR (${eq(state, "sending")} AND ${lt(claimedUntil, at.toISOString())})`,
        )
        .go(rejectQuietly);
      if (!claimed.rejected) return { status: "claimed", token };
      const { data } = await outboundMessage.get({ messageId: message.id }).go({ consistent: true });
      return data?.state === "sent" ? { status: "sent" } : { status: "busy" };
    },

    /** Marks the message sent, if this claim still holds it. */
    async markSent(id: string, token: string, result: { providerMessageId: string }): Promise<void> {
      await outboundMessage
        .patch({ messageId: id })
        .set({ state: "sent", sentAt: now().toISOString(), providerMessageId: result.providerMessageId })
        .where(({ claimToken }, { eq }) => eq(claimToken, token))
        .go(rejectQuietly);
    },

    /** Gives the claim up after a failed send (`reason`: the error's name), so a retry may claim it at once. */
    async release(id: string, token: string, reason: string): Promise<void> {
      await outboundMessage
        .patch({ messageId: id })
        .set({ state: "failed", lastError: reason.slice(0, 200) })
        .where(({ claimToken, state }, { eq }) => `${eq(claimToken, token)} AND ${eq(state, "sending")}`)
        .go(rejectQuietly);
    },

    /** The message's ledger item, for tests and support. */
    async find(id: string) {
      const { data } = await outboundMessage.get({ messageId: id }).go({ consistent: true });
      return data ?? undefined;
    },
  };
}

export type OutboundStore = ReturnType<typeof createOutboundStore>;
