import { CaptureReceiptSchema, MappedFieldsSchema } from "@leadflow/core";
import { z } from "zod";

/** The ids Meta's webhook carries; the lead's fields are fetched from the Graph API later. */
export const MetaLeadRefSchema = z.object({
  leadgenId: z.string().min(1),
  formId: z.string().optional(),
  adId: z.string().optional(),
  adgroupId: z.string().optional(),
  pageId: z.string().optional(),
  createdTime: z.number().optional(),
});
export type MetaLeadRef = z.infer<typeof MetaLeadRefSchema>;

/**
 * What the webhook puts on the capture queue for the ingest worker: the delivery's fields under
 * lead field names (checked to hold a valid email or phone) and the platform's attribution ids,
 * or, for Meta, only the ids to fetch the lead with.
 */
export const CaptureMessageSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("lead"),
    receipt: CaptureReceiptSchema,
    fields: MappedFieldsSchema,
    attribution: z.record(z.string(), z.string()),
  }),
  z.object({ kind: z.literal("meta-lead"), receipt: CaptureReceiptSchema, meta: MetaLeadRefSchema }),
]);
export type CaptureMessage = z.infer<typeof CaptureMessageSchema>;

/**
 * Who a queued message is about, as far as the message tells (a Meta message carries only ids):
 * the ingest worker applies the messages of one person in a batch one after another.
 */
export function personKeyOf(message: CaptureMessage): string | undefined {
  if (message.kind !== "lead") return undefined;
  const { email, phone } = message.fields.values;
  return email?.trim().toLowerCase() ?? phone?.replace(/\D/g, "");
}
