import {
  ForbiddenError,
  fieldRecord,
  type NormalizedLead,
  PlatformLeadIdSchema,
  secretsMatch,
  ValidationError,
} from "@leadflow/core";
import { z } from "zod";
import type { Acceptance, AdapterContext } from "./adapter.ts";
import type { CaptureMessage, MetaLeadRef } from "./messages.ts";
import type { GraphLead, MetaGraphClient } from "./meta-graph.ts";
import { parseJsonBody, type WebhookRequest } from "./request.ts";
import { verifyMetaSignature } from "./signatures.ts";
import { leadFromFields, type Source } from "./sources.ts";

const id = z.union([PlatformLeadIdSchema, z.number()]).transform(String);

const LeadgenChangeSchema = z.object({
  leadgen_id: id,
  form_id: id.optional(),
  ad_id: id.optional(),
  adgroup_id: id.optional(),
  page_id: id.optional(),
  created_time: z.number().optional(),
});

const MetaWebhookSchema = z.object({
  object: z.string(),
  entry: z.array(z.object({ changes: z.array(z.object({ field: z.string(), value: z.unknown() })).default([]) })),
});

/** Meta Lead Ads: the webhook carries only ids; the worker fetches the fields from the Graph API. */
export function receiveMeta({ source, request, receivedAt, secrets }: AdapterContext): Acceptance {
  verifyMetaSignature(request, secrets.metaAppSecret);
  const parsed = MetaWebhookSchema.safeParse(parseJsonBody(request));
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, "Not a Meta webhook payload");

  const messages: CaptureMessage[] = [];
  const rejected: { entry: number; change: number; issues: string[] }[] = [];
  parsed.data.entry.forEach(({ changes }, entry) => {
    changes.forEach(({ field, value }, change) => {
      if (field !== "leadgen") return;
      const leadgen = LeadgenChangeSchema.safeParse(value);
      if (!leadgen.success) {
        rejected.push({
          entry,
          change,
          issues: leadgen.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
        });
        return;
      }
      const meta = toLeadRef(leadgen.data);
      messages.push({
        kind: "meta-lead",
        receipt: { source: source.name, platformLeadId: meta.leadgenId, receivedAt, test: false },
        meta,
      });
    });
  });
  // One bad change must not hold back the good ones: Meta would retry the whole batch for 36 h.
  if (messages.length === 0 && rejected.length > 0) {
    throw new ValidationError("No leadgen change in this delivery is valid", rejected);
  }
  const body = { status: "received", leads: messages.length, ...(rejected.length > 0 ? { rejected } : {}) };
  return { status: 200, body, messages, ...(rejected.length > 0 ? { refused: rejected.length } : {}) };
}

/** Answers Meta's subscription check: echo `hub.challenge` when the verify token matches. */
export function answerMetaHandshake(request: Pick<WebhookRequest, "query">, verifyToken: string): string {
  const { query } = request;
  if (query["hub.mode"] !== "subscribe" || !secretsMatch(query["hub.verify_token"], verifyToken)) {
    throw new ForbiddenError("hub.mode or hub.verify_token does not match");
  }
  const challenge = query["hub.challenge"];
  if (!challenge)
    throw new ValidationError("hub.challenge is missing", [{ path: "hub.challenge", message: "missing" }]);
  return challenge;
}

/** Fetches the lead's fields from the Graph API and maps them like any other source. */
export async function loadMetaLead(ref: MetaLeadRef, source: Source, graph: MetaGraphClient): Promise<NormalizedLead> {
  const graphLead = await graph.fetchLead(ref.leadgenId);
  const fields = fieldRecord();
  for (const field of graphLead.field_data) fields[field.name] = field.values.join(", ");
  return leadFromFields(source, source.mapFields(fields), metaAttribution(ref, graphLead));
}

function toLeadRef(value: z.infer<typeof LeadgenChangeSchema>): MetaLeadRef {
  return {
    leadgenId: value.leadgen_id,
    ...(value.form_id ? { formId: value.form_id } : {}),
    ...(value.ad_id ? { adId: value.ad_id } : {}),
    ...(value.adgroup_id ? { adgroupId: value.adgroup_id } : {}),
    ...(value.page_id ? { pageId: value.page_id } : {}),
    ...(value.created_time ? { createdTime: value.created_time } : {}),
  };
}

function metaAttribution(ref: MetaLeadRef, graphLead: GraphLead): Record<string, string> {
  const ids = {
    form_id: graphLead.form_id ?? ref.formId,
    ad_id: graphLead.ad_id ?? ref.adId,
    adgroup_id: ref.adgroupId,
    page_id: ref.pageId,
    campaign_id: graphLead.campaign_id,
  };
  return Object.fromEntries(Object.entries(ids).filter((entry): entry is [string, string] => Boolean(entry[1])));
}
