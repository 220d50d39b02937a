import {
  assertIdentifiable,
  fieldRecord,
  PlatformLeadIdSchema,
  secretsMatch,
  UnauthorizedError,
  ValidationError,
} from "@leadflow/core";
import { z } from "zod";
import type { Acceptance, AdapterContext } from "./adapter.ts";
import { parseJsonBody } from "./request.ts";

const id = z.union([z.string(), z.number()]).transform(String);

/** Google Ads lead form webhook (api_version 1.0). */
const GoogleLeadSchema = z.object({
  lead_id: PlatformLeadIdSchema,
  user_column_data: z
    .array(
      z.object({
        column_id: z.string().optional(),
        column_name: z.string().optional(),
        string_value: z.string().optional(),
      }),
    )
    .default([]),
  form_id: id.optional(),
  campaign_id: id.optional(),
  adgroup_id: id.optional(),
  creative_id: id.optional(),
  gcl_id: z.string().optional(),
  is_test: z.boolean().default(false),
});

/** Authenticated by `google_key`, the key entered with the webhook URL in Google Ads. */
export function receiveGoogleAds({ source, request, receivedAt, secrets }: AdapterContext): Acceptance {
  const body = parseJsonBody(request);
  const key = googleKeyOf(body);
  if (!secrets.googleAdsWebhookKeys.some((expected) => secretsMatch(key, expected))) {
    throw new UnauthorizedError("google_key does not match");
  }

  const parsed = GoogleLeadSchema.safeParse(body);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, "Not a Google Ads lead form payload");
  const payload = parsed.data;

  const fields = fieldRecord();
  for (const column of payload.user_column_data) {
    const name = column.column_id ?? column.column_name;
    if (name && column.string_value !== undefined) fields[name] = column.string_value;
  }
  const mapped = source.mapFields(fields);
  assertIdentifiable(mapped, { defaultCountry: source.phoneCountry });
  const receipt = { source: source.name, platformLeadId: payload.lead_id, receivedAt, test: payload.is_test };
  const message = { kind: "lead" as const, receipt, fields: mapped, attribution: googleAttribution(payload) };
  return { status: 200, body: {}, messages: [message] };
}

/** Google's own test sample spells it `Google_key`. */
function googleKeyOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const entry = Object.entries(body).find(([name]) => name.toLowerCase() === "google_key");
  return typeof entry?.[1] === "string" ? entry[1] : undefined;
}

function googleAttribution(payload: z.infer<typeof GoogleLeadSchema>): Record<string, string> {
  const attribution: Record<string, string> = {};
  const ids = {
    gclid: payload.gcl_id,
    form_id: payload.form_id,
    campaign_id: payload.campaign_id,
    adgroup_id: payload.adgroup_id,
    creative_id: payload.creative_id,
  };
  for (const [name, value] of Object.entries(ids)) if (value) attribution[name] = value;
  return attribution;
}
