import { z } from "zod";

/**
 * What every domain event carries besides its `type` and its own fields. Events are delivered at
 * least once (they leave through an outbox on the lead, see `flushPending`), so `id` is stable:
 * an event published again after a crash has the same id, and consumers drop repeats by it.
 */
export const eventEnvelope = z.object({
  id: z.string().min(1),
  leadId: z.string().min(1),
  /** When the change happened (not when it was published). */
  at: z.iso.datetime(),
});
