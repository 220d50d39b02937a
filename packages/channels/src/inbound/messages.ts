import { CaptureReceiptSchema, NormalizedLeadSchema } from "@leadflow/core";
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

/** What the webhook puts on the capture queue for the ingest worker. */
export const CaptureMessageSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("lead"), receipt: CaptureReceiptSchema, lead: NormalizedLeadSchema }),
  z.object({ kind: z.literal("meta-lead"), receipt: CaptureReceiptSchema, meta: MetaLeadRefSchema }),
]);
export type CaptureMessage = z.infer<typeof CaptureMessageSchema>;
