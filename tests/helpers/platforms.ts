/**
 * Deliveries shaped like what the platforms send (see docs/platforms.md for the sources), built
 * by small factories rather than copied blobs.
 */
import { createHmac, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";

export interface Delivery {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface SignedFormOptions {
  secret: string;
  /** The Standard Webhooks message id; a platform retry reuses it. */
  id?: string;
  at?: Date;
  encoding?: "json" | "urlencoded";
  source?: string;
}

/** A form post signed per Standard Webhooks. */
export function formDelivery(fields: Record<string, unknown>, options: SignedFormOptions): Delivery {
  if (options.encoding === "urlencoded") {
    const body = new URLSearchParams(
      Object.entries(fields).map(([name, value]): [string, string] => [name, String(value)]),
    ).toString();
    return signedDelivery(body, "application/x-www-form-urlencoded", options);
  }
  return signedDelivery(JSON.stringify(fields), "application/json", options);
}

/** Any body, signed as it is: for deliveries whose body is not what it should be. */
export function signedDelivery(body: string, contentType: string, options: SignedFormOptions): Delivery {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  return {
    path: `/webhooks/${options.source ?? "form"}`,
    headers: {
      "content-type": contentType,
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(options.secret).sign(id, at, body),
    },
    body,
  };
}

export interface MetaLeadChange {
  leadgenId: string;
  formId?: string;
  pageId?: string;
  adId?: string;
  createdTime?: number;
}

/**
 * Meta's `leadgen` webhook: ids only, as JSON numbers the way Meta's documented sample has them
 * (written by hand so ids past 2^53 keep every digit).
 */
export function metaDelivery(changes: readonly MetaLeadChange[], appSecret: string, source = "meta"): Delivery {
  const pageId = changes[0]?.pageId ?? "153125381133";
  const value = (change: MetaLeadChange) =>
    `{"leadgen_id":${change.leadgenId},"page_id":${change.pageId ?? pageId},"form_id":${change.formId ?? "12312312312"},` +
    `"adgroup_id":${change.adId ?? "12312312312"},"ad_id":${change.adId ?? "12312312312"},"created_time":${change.createdTime ?? 1440120384}}`;
  const body =
    `{"object":"page","entry":[{"id":"${pageId}","time":${Math.floor(Date.now() / 1000)},"changes":[` +
    changes.map((change) => `{"field":"leadgen","value":${value(change)}}`).join(",") +
    "]}]}";
  return {
    path: `/webhooks/${source}`,
    headers: { "content-type": "application/json", "x-hub-signature-256": metaSignature(body, appSecret) },
    body,
  };
}

export function metaSignature(body: string, appSecret: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`;
}

/** What `GET /{leadgen_id}` answers on the Graph API. */
export function graphLead(leadgenId: string, fields: Record<string, string>) {
  return {
    created_time: "2026-11-24T08:49:14+0000",
    id: leadgenId,
    ad_id: "23851234567890123",
    form_id: "1234567890123456",
    field_data: Object.entries(fields).map(([name, value]) => ({ name, values: [value] })),
  };
}

export interface GoogleLeadOptions {
  leadId?: string;
  key: string;
  isTest?: boolean;
  columns: Record<string, string>;
  source?: string;
}

/** Google Ads lead form webhook (api_version 1.0), ids as JSON numbers. */
export function googleAdsDelivery(options: GoogleLeadOptions): Delivery {
  const payload = {
    lead_id: options.leadId ?? `TeSter-${randomUUID()}`,
    user_column_data: Object.entries(options.columns).map(([columnId, value]) => ({
      column_name: columnId.replaceAll("_", " ").toLowerCase(),
      string_value: value,
      column_id: columnId,
    })),
    api_version: "1.0",
    form_id: 1234,
    campaign_id: 123456,
    google_key: options.key,
    is_test: options.isTest ?? false,
    gcl_id: "Cj0KCQjwit_8BRCoARIsAIx3Rj7g",
    adgroup_id: 20000000000,
    creative_id: 30000000000,
  };
  return {
    path: `/webhooks/${options.source ?? "google-ads"}`,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  };
}
