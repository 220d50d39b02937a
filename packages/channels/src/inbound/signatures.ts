import { createHmac, timingSafeEqual } from "node:crypto";
import { SignatureError } from "@leadflow/core";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { WebhookRequest } from "./request.ts";

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-signature` carries one or more
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, and the timestamp must be within 5 minutes.
 * Several secrets may be configured at once, so a secret can be rotated without downtime.
 */
export function standardWebhookVerifier(secrets: readonly string[]): (request: WebhookRequest) => void {
  const verifiers = secrets.map((secret) => new Webhook(secret));
  return (request) => {
    const headers = {
      "webhook-id": request.headers["webhook-id"] ?? "",
      "webhook-timestamp": request.headers["webhook-timestamp"] ?? "",
      "webhook-signature": request.headers["webhook-signature"] ?? "",
    };
    let reason = "No signing secret is configured";
    for (const verifier of verifiers) {
      try {
        verifier.verify(request.body, headers, { jsonParse: false });
        return;
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        reason = error.message;
      }
    }
    throw new SignatureError(`Webhook signature rejected: ${reason}`);
  };
}

/** Meta signs the raw body with the app secret: `X-Hub-Signature-256: sha256=<hex>`. */
export function verifyMetaSignature(request: WebhookRequest, appSecret: string): void {
  const header = request.headers["x-hub-signature-256"] ?? "";
  const given = Buffer.from(header.replace(/^sha256=/, ""), "hex");
  const expected = createHmac("sha256", appSecret).update(request.body).digest();
  if (!header.startsWith("sha256=") || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SignatureError("X-Hub-Signature-256 does not match the body");
  }
}
