import { standardWebhookVerifier, verifyMetaSignature, type WebhookRequest } from "@leadflow/channels";
import { SignatureError } from "@leadflow/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formDelivery, metaDelivery } from "../helpers/platforms.ts";

const secret = `whsec_${Buffer.from("unit-test-secret-abcdefghijklmnop").toString("base64")}`;
const nextSecret = `whsec_${Buffer.from("unit-test-secret-rotated-qrstuvwx").toString("base64")}`;

function asRequest({ headers, body }: { headers: Record<string, string>; body: string }): WebhookRequest {
  return { headers, query: {}, body: Buffer.from(body) };
}

describe("Standard Webhooks verification (form), against signatures of the reference library", () => {
  afterEach(() => vi.useRealTimers());

  it("accepts a delivery signed with the configured secret", () => {
    const delivery = asRequest(formDelivery({ email: "a@example.com" }, { secret }));
    expect(() => standardWebhookVerifier([secret])(delivery)).not.toThrow();
  });

  it("rejects a tampered body", () => {
    const delivery = formDelivery({ email: "a@example.com" }, { secret });
    const tampered = asRequest({ ...delivery, body: delivery.body.replace("a@", "b@") });
    expect(() => standardWebhookVerifier([secret])(tampered)).toThrow(SignatureError);
  });

  it("rejects a signature from another secret", () => {
    const delivery = asRequest(formDelivery({ email: "a@example.com" }, { secret: nextSecret }));
    expect(() => standardWebhookVerifier([secret])(delivery)).toThrow(/matches none/);
  });

  it("rejects a timestamp more than five minutes old, and one from the future", () => {
    const verify = standardWebhookVerifier([secret]);
    const old = asRequest(formDelivery({ email: "a@example.com" }, { secret, at: new Date(Date.now() - 6 * 60_000) }));
    const future = asRequest(
      formDelivery({ email: "a@example.com" }, { secret, at: new Date(Date.now() + 6 * 60_000) }),
    );
    expect(() => verify(old)).toThrow(/minutes old/);
    expect(() => verify(future)).toThrow(/minutes ahead/);
  });

  it("accepts a timestamp within the tolerance", () => {
    const fourMinutesAgo = new Date(Date.now() - 4 * 60_000);
    const delivery = asRequest(formDelivery({ email: "a@example.com" }, { secret, at: fourMinutesAgo }));
    expect(() => standardWebhookVerifier([secret])(delivery)).not.toThrow();
  });

  it("accepts any of several signatures while the sender rotates its secret", () => {
    const at = new Date();
    const delivery = formDelivery({ email: "a@example.com" }, { secret: nextSecret, at });
    const old = formDelivery({ email: "a@example.com" }, { secret, id: delivery.headers["webhook-id"], at });
    const both = `${old.headers["webhook-signature"]} ${delivery.headers["webhook-signature"]}`;
    const request = asRequest({ ...delivery, headers: { ...delivery.headers, "webhook-signature": both } });
    expect(() => standardWebhookVerifier([secret])(request)).not.toThrow();
  });

  it("accepts either of two configured secrets while we rotate ours", () => {
    const delivery = asRequest(formDelivery({ email: "a@example.com" }, { secret: nextSecret }));
    expect(() => standardWebhookVerifier([secret, nextSecret])(delivery)).not.toThrow();
  });

  it("rejects a timestamp that is not a number", () => {
    const delivery = formDelivery({ email: "a@example.com" }, { secret });
    const request = asRequest({ ...delivery, headers: { ...delivery.headers, "webhook-timestamp": "soon" } });
    expect(() => standardWebhookVerifier([secret])(request)).toThrow(SignatureError);
  });

  it("rejects a delivery without the webhook headers", () => {
    const delivery = asRequest({ headers: {}, body: "{}" });
    expect(() => standardWebhookVerifier([secret])(delivery)).toThrow(/are required/);
  });

  it("signs the exact bytes: a urlencoded body verifies without being parsed as JSON", () => {
    const delivery = asRequest(formDelivery({ email: "é@example.com" }, { secret, encoding: "urlencoded" }));
    expect(() => standardWebhookVerifier([secret])(delivery)).not.toThrow();
  });
});

describe("X-Hub-Signature-256 verification (Meta)", () => {
  const appSecret = "meta-app-secret";

  it("accepts the HMAC of the raw body", () => {
    const delivery = asRequest(metaDelivery([{ leadgenId: "444444444444" }], appSecret));
    expect(() => verifyMetaSignature(delivery, appSecret)).not.toThrow();
  });

  it("rejects a tampered body, a wrong secret and a missing header", () => {
    const delivery = metaDelivery([{ leadgenId: "444444444444" }], appSecret);
    const tampered = asRequest({ ...delivery, body: delivery.body.replace("444444444444", "444444444445") });
    expect(() => verifyMetaSignature(tampered, appSecret)).toThrow(SignatureError);
    expect(() => verifyMetaSignature(asRequest(delivery), "another-secret")).toThrow(SignatureError);
    expect(() => verifyMetaSignature(asRequest({ ...delivery, headers: {} }), appSecret)).toThrow(SignatureError);
  });

  it("rejects a header that is not sha256=<hex>", () => {
    const delivery = metaDelivery([{ leadgenId: "1" }], appSecret);
    const sha1 = asRequest({ ...delivery, headers: { "x-hub-signature-256": "sha1=abcdef" } });
    expect(() => verifyMetaSignature(sha1, appSecret)).toThrow(SignatureError);
  });
});
