import { createHmac, timingSafeEqual } from "node:crypto";
import { SignatureError } from "@leadflow/core";
import type { WebhookRequest } from "./request.ts";

const toleranceSeconds = 5 * 60;

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-signature` carries one or more
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, and the timestamp must be within 5 minutes.
 * Several secrets may be configured at once, so ours can be rotated without downtime. Written
 * on node:crypto rather than the reference library, whose pure-JS HMAC costs the hot path
 * measurably (docs/decisions.md); the tests sign with the reference library.
 */
export function standardWebhookVerifier(secrets: readonly string[], now: () => number = Date.now) {
  const keys = secrets.map((secret) => Buffer.from(secret.replace(/^whsec_/, ""), "base64"));
  if (keys.some((key) => key.length === 0)) throw new Error("A form signing secret is empty");

  return (request: WebhookRequest): void => {
    const id = request.headers["webhook-id"];
    const timestamp = request.headers["webhook-timestamp"];
    const signatures = request.headers["webhook-signature"];
    if (!id || !timestamp || !signatures) {
      throw new SignatureError("webhook-id, webhook-timestamp and webhook-signature are required");
    }
    const age = now() / 1000 - Number(timestamp);
    if (!/^\d+$/.test(timestamp) || Math.abs(age) > toleranceSeconds) {
      throw new SignatureError(
        `webhook-timestamp is more than ${toleranceSeconds / 60} minutes ${age > 0 ? "old" : "ahead"}`,
      );
    }
    const expected = keys.map((key) =>
      createHmac("sha256", key).update(`${id}.${timestamp}.`).update(request.body).digest(),
    );
    for (const signature of signatures.split(" ")) {
      const [version, value] = signature.split(",");
      if (version !== "v1" || !value) continue;
      const given = Buffer.from(value, "base64");
      if (expected.some((digest) => digest.length === given.length && timingSafeEqual(digest, given))) return;
    }
    throw new SignatureError("webhook-signature matches none of our signing secrets");
  };
}

/** Meta signs the raw body with the app secret: `X-Hub-Signature-256: sha256=<hex>`. */
export function verifyMetaSignature(request: WebhookRequest, appSecret: string): void {
  const header = request.headers["x-hub-signature-256"] ?? "";
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  const expected = createHmac("sha256", appSecret).update(request.body).digest();
  if (!/^sha256=[0-9a-f]{64}$/i.test(header) || !timingSafeEqual(given, expected)) {
    throw new SignatureError("X-Hub-Signature-256 does not match the body");
  }
}
