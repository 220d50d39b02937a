import { answerHandshake, createInbound, parseSources, type WebhookRequest } from "@leadflow/channels";
import { type CaptureReceipt, deliveryScope, type LeadflowError, ValidationError } from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { formDelivery, googleAdsDelivery, metaDelivery, metaSignature, signedDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";

const sources = parseSources(`
defaults:
  phoneCountry: US
sources:
  form: { type: form }
  partner-form: { type: form, fields: { "Budget range": custom.budget } }
  meta: { type: meta }
  google-ads: { type: google-ads }
`);
const inbound = createInbound({
  sources,
  secrets: {
    formSigningSecrets: { FORM_SIGNING_SECRET: [testSecrets.FORM_SIGNING_SECRET] },
    metaAppSecret: testSecrets.META_APP_SECRET,
    googleAdsWebhookKeys: [testSecrets.GOOGLE_ADS_WEBHOOK_KEY],
  },
  now: () => new Date("2026-11-24T10:00:00.000Z"),
});

function receive(delivery: { path: string; headers: Record<string, string>; body: string }) {
  const request: WebhookRequest = { headers: delivery.headers, query: {}, body: Buffer.from(delivery.body) };
  return inbound.receive(delivery.path.replace("/webhooks/", ""), request);
}

function statusOf(code: string): number {
  return code === "invalid_body" ? 400 : code === "validation_failed" ? 422 : 0;
}

function errorOf(action: () => unknown): LeadflowError {
  try {
    action();
  } catch (error) {
    return error as LeadflowError;
  }
  throw new Error("expected an error");
}

const secret = testSecrets.FORM_SIGNING_SECRET;

describe("form deliveries", () => {
  it("accepts a signed JSON form with 202 and queues its fields under its webhook-id", () => {
    const delivery = formDelivery({ Email: "Ada@Example.com", phone: "415 555 0132", utm_source: "ads" }, { secret });
    const acceptance = receive(delivery);
    expect(acceptance.status).toBe(202);
    expect(acceptance.messages).toEqual([
      {
        kind: "lead",
        receipt: {
          source: "form",
          scope: "secret:FORM_SIGNING_SECRET",
          platformLeadId: delivery.headers["webhook-id"],
          receivedAt: "2026-11-24T10:00:00.000Z",
          test: false,
          contentHash: expect.any(String),
        },
        fields: { values: { email: "Ada@Example.com", phone: "415 555 0132", utm_source: "ads" }, custom: {} },
        attribution: {},
      },
    ]);
  });

  it("queues a lead whose only identifier is a valid phone, and refuses one with an invalid phone", () => {
    expect(receive(formDelivery({ phone: "415 555 0132" }, { secret })).messages).toHaveLength(1);
    expect(errorOf(() => receive(formDelivery({ phone: "555" }, { secret }))).code).toBe("validation_failed");
  });

  it("accepts application/x-www-form-urlencoded", () => {
    const delivery = formDelivery({ email: "a@example.com", first_name: "Zoë" }, { secret, encoding: "urlencoded" });
    expect(receive(delivery).messages[0]).toMatchObject({
      fields: { values: { email: "a@example.com", firstName: "Zoë" } },
    });
  });

  it("flattens nested JSON and keeps unknown fields", () => {
    const delivery = formDelivery({ email: "a@example.com", address: { city: "Lyon" }, tags: ["a", "b"] }, { secret });
    expect(receive(delivery).messages[0]).toMatchObject({
      fields: { custom: { "address.city": "Lyon", tags: "a, b" } },
    });
  });

  it("keeps a list of objects as JSON text rather than dropping it", () => {
    const answers = [{ question: "Budget?", answer: "10k" }];
    const delivery = formDelivery({ email: "a@example.com", answers }, { secret });
    expect(receive(delivery).messages[0]).toMatchObject({ fields: { custom: { answers: JSON.stringify(answers) } } });
  });

  it("refuses with 422 what no real form sends: deep nesting, thousands of fields, huge names, huge ids", () => {
    const nested = `${'{"a":'.repeat(20_000)}{}${"}".repeat(20_000)}`;
    const deep = signedDelivery(`{"email":"a@example.com","nested":${nested}}`, "application/json", { secret });
    expect([400, 422]).toContain(statusOf(errorOf(() => receive(deep)).code));
    const tooDeep = formDelivery(
      { email: "a@example.com", a: { b: { c: { d: { e: { f: { g: { h: { i: "x" } } } } } } } } },
      { secret },
    );
    expect(errorOf(() => receive(tooDeep)).code).toBe("validation_failed");
    const many = Object.fromEntries(Array.from({ length: 501 }, (_, index) => [`field${index}`, "x"]));
    expect(errorOf(() => receive(formDelivery({ email: "a@example.com", ...many }, { secret }))).code).toBe(
      "validation_failed",
    );
    const longName = formDelivery(
      { email: "a@example.com", ["n".repeat(300)]: "x" },
      { secret, encoding: "urlencoded" },
    );
    expect(errorOf(() => receive(longName)).code).toBe("validation_failed");
    const longValue = formDelivery({ email: "a@example.com", notes: "x".repeat(10_001) }, { secret });
    expect(errorOf(() => receive(longValue)).code).toBe("validation_failed");
    const longId = formDelivery({ email: "a@example.com" }, { secret, id: "x".repeat(600) });
    expect(errorOf(() => receive(longId)).code).toBe("validation_failed");
  });

  it("applies the source's own field names", () => {
    const delivery = formDelivery(
      { email: "a@example.com", "Budget range": "10k" },
      { secret, source: "partner-form" },
    );
    expect(receive(delivery).messages[0]).toMatchObject({ fields: { custom: { budget: "10k" } } });
  });

  it("answers each kind of bad input with its own error", () => {
    const valid = formDelivery({ email: "a@example.com" }, { secret });
    expect(errorOf(() => receive({ ...valid, path: "/webhooks/nope" })).code).toBe("unknown_source");
    expect(
      errorOf(() => receive({ ...valid, headers: { ...valid.headers, "webhook-signature": "v1,AAAA" } })).code,
    ).toBe("invalid_signature");
    expect(errorOf(() => receive(signedDelivery("{nope", "application/json", { secret }))).code).toBe("invalid_body");
    expect(errorOf(() => receive(signedDelivery("[1, 2]", "application/json", { secret }))).code).toBe("invalid_body");
    expect(errorOf(() => receive(signedDelivery("<lead/>", "text/xml", { secret }))).code).toBe(
      "unsupported_media_type",
    );
    expect(errorOf(() => receive(formDelivery({ company: "Acme" }, { secret }))).code).toBe("validation_failed");
    expect(
      errorOf(() => receive(formDelivery({ email: "a@example.com", pad: "x".repeat(300_000) }, { secret }))).code,
    ).toBe("payload_too_large");
  });
});

describe("Meta deliveries", () => {
  it("queues one message per leadgen change, keeping 17-digit ids exact", () => {
    const delivery = metaDelivery(
      [{ leadgenId: "12345678901234567", formId: "98765432109876543" }, { leadgenId: "444444444444" }],
      testSecrets.META_APP_SECRET,
    );
    const acceptance = receive(delivery);
    expect(acceptance.status).toBe(200);
    expect(acceptance.messages.map((message) => message.receipt.platformLeadId)).toEqual([
      "12345678901234567",
      "444444444444",
    ]);
    expect(acceptance.messages[0]).toMatchObject({ kind: "meta-lead", meta: { formId: "98765432109876543" } });
  });

  it("queues the valid changes of a batch and lists the refused ones, refusing the delivery only when none is valid", () => {
    const body = JSON.stringify({
      object: "page",
      entry: [
        {
          id: "1",
          time: 1,
          changes: [
            { field: "leadgen", value: { leadgen_id: 444444444444, form_id: 1, page_id: 1, created_time: 1 } },
            { field: "leadgen", value: { form_id: 1 } },
          ],
        },
      ],
    });
    const headers = {
      "content-type": "application/json",
      "x-hub-signature-256": metaSignature(body, testSecrets.META_APP_SECRET),
    };
    const acceptance = receive({ path: "/webhooks/meta", headers, body });
    expect(acceptance.messages.map((message) => message.receipt.platformLeadId)).toEqual(["444444444444"]);
    expect(acceptance.body).toMatchObject({ leads: 1, rejected: [{ entry: 0, change: 1 }] });
    expect(acceptance.refused).toBe(1);

    const onlyBad = JSON.stringify({ object: "page", entry: [{ changes: [{ field: "leadgen", value: {} }] }] });
    const badHeaders = { ...headers, "x-hub-signature-256": metaSignature(onlyBad, testSecrets.META_APP_SECRET) };
    expect(errorOf(() => receive({ path: "/webhooks/meta", headers: badHeaders, body: onlyBad })).code).toBe(
      "validation_failed",
    );
  });

  it("ignores changes of other fields", () => {
    const body = JSON.stringify({
      object: "page",
      entry: [{ id: "1", time: 1, changes: [{ field: "feed", value: {} }] }],
    });
    const headers = {
      "content-type": "application/json",
      "x-hub-signature-256": metaSignature(body, testSecrets.META_APP_SECRET),
    };
    expect(receive({ path: "/webhooks/meta", headers, body }).messages).toEqual([]);
  });

  it("answers the subscription handshake only with the right verify token", () => {
    const query = {
      "hub.mode": "subscribe",
      "hub.verify_token": testSecrets.META_VERIFY_TOKEN,
      "hub.challenge": "1158201444",
    };
    expect(answerHandshake(sources, "meta", { query }, testSecrets.META_VERIFY_TOKEN)).toBe("1158201444");
    const wrong = { ...query, "hub.verify_token": "guess" };
    expect(errorOf(() => answerHandshake(sources, "meta", { query: wrong }, testSecrets.META_VERIFY_TOKEN)).code).toBe(
      "forbidden",
    );
    expect(errorOf(() => answerHandshake(sources, "form", { query }, testSecrets.META_VERIFY_TOKEN)).code).toBe(
      "not_found",
    );
  });
});

describe("Google Ads deliveries", () => {
  const key = testSecrets.GOOGLE_ADS_WEBHOOK_KEY;

  it("maps user_column_data by column id, answers 200 {} and keeps the click and campaign ids", () => {
    const delivery = googleAdsDelivery({
      leadId: "TeSter-123-ABCDEF",
      key,
      isTest: true,
      columns: {
        FULL_NAME: "John Doe",
        EMAIL: "John@Example.com",
        PHONE_NUMBER: "+16505550123",
        COMPANY_NAME: "Doe Inc",
      },
    });
    const acceptance = receive(delivery);
    expect(acceptance.status).toBe(200);
    expect(acceptance.body).toEqual({});
    expect(acceptance.messages[0]).toMatchObject({
      receipt: { source: "google-ads", platformLeadId: "TeSter-123-ABCDEF", test: true },
      fields: {
        values: { fullName: "John Doe", email: "John@Example.com", phone: "+16505550123", company: "Doe Inc" },
      },
      attribution: { gclid: "Cj0KCQjwit_8BRCoARIsAIx3Rj7g", form_id: "1234", campaign_id: "123456" },
    });
  });

  it("accepts the key spelled Google_key, as in Google's test sample", () => {
    const delivery = googleAdsDelivery({ key, columns: { EMAIL: "a@example.com" } });
    const body = delivery.body.replace('"google_key"', '"Google_key"');
    expect(receive({ ...delivery, body }).messages).toHaveLength(1);
  });

  it("refuses a wrong key with 401 and a payload without lead_id with 422", () => {
    expect(errorOf(() => receive(googleAdsDelivery({ key: "guess", columns: { EMAIL: "a@example.com" } }))).code).toBe(
      "unauthorized",
    );
    const delivery = googleAdsDelivery({ key, columns: { EMAIL: "a@example.com" } });
    const body = JSON.stringify({ ...JSON.parse(delivery.body), lead_id: undefined });
    expect(errorOf(() => receive({ ...delivery, body }))).toBeInstanceOf(ValidationError);
  });
});

describe("input that once lost leads or answered 500", () => {
  const lead = (fields: Record<string, unknown>) =>
    receive(formDelivery({ email: "a@example.com", ...fields }, { secret }));

  it("keeps fields named like Object.prototype members, __proto__ included, as they were sent", () => {
    const body = '{"email":"a@example.com","constructor":"c","toString":"t","hasOwnProperty":"h","__proto__":"p"}';
    const [message] = receive(signedDelivery(body, "application/json", { secret })).messages;
    const custom = message?.kind === "lead" ? message.fields.custom : {};
    expect(Object.entries(custom)).toEqual([
      ["constructor", "c"],
      ["toString", "t"],
      ["hasOwnProperty", "h"],
      ["__proto__", "p"],
    ]);
    const urlencoded = formDelivery({ email: "a@example.com", constructor: "c" }, { secret, encoding: "urlencoded" });
    expect(receive(urlencoded).messages[0]).toMatchObject({ fields: { custom: { constructor: "c" } } });
  });

  it("counts nested lists as levels: 5,000 nested arrays in 10 KB are refused with 422, not a stack overflow", () => {
    const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
    const delivery = signedDelivery(`{"email":"a@example.com","x":${deep}}`, "application/json", { secret });
    expect(errorOf(() => receive(delivery)).code).toBe("validation_failed");
    expect(errorOf(() => lead({ x: [[[[[[[[["nine levels"]]]]]]]]] })).code).toBe("validation_failed");
    expect(lead({ x: [[["three levels"]]] }).messages[0]).toMatchObject({
      fields: { custom: { x: '[[["three levels"]]]' } },
    });
  });

  it("refuses deep nesting in Meta and Google bodies too", () => {
    const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
    const google = googleAdsDelivery({ key: testSecrets.GOOGLE_ADS_WEBHOOK_KEY, columns: { EMAIL: "a@example.com" } });
    const body = google.body.replace('"api_version"', `"x":${deep},"api_version"`);
    expect(errorOf(() => receive({ ...google, body })).code).toBe("validation_failed");
  });

  it("keeps every plane of Unicode, and turns a lone surrogate (which no UTF-8 can carry) into U+FFFD", () => {
    const [message] = lead({ first_name: "𠮷田", message: "Hi 👋", odd: "\uFFFE\uFFFF" }).messages;
    expect(message).toMatchObject({
      fields: { values: { firstName: "𠮷田" }, custom: { message: "Hi 👋", odd: "\uFFFE\uFFFF" } },
    });
    const escaped = signedDelivery('{"email":"a@example.com","note":"a\\ud800b","\\udc00":"x"}', "application/json", {
      secret,
    });
    expect(receive(escaped).messages[0]).toMatchObject({ fields: { custom: { note: "a\uFFFDb", "\uFFFD": "x" } } });
  });

  it("limits platform ids by bytes, as they go into keys: 512 '€' (1,536 bytes) is refused with 422", () => {
    const google = googleAdsDelivery({
      key: testSecrets.GOOGLE_ADS_WEBHOOK_KEY,
      leadId: "€".repeat(512),
      columns: { EMAIL: "a@example.com" },
    });
    expect(errorOf(() => receive(google)).code).toBe("validation_failed");
    const form = formDelivery({ email: "a@example.com" }, { secret, id: "€".repeat(171) });
    expect(errorOf(() => receive(form)).code).toBe("validation_failed");
    expect(receive(formDelivery({ email: "a@example.com" }, { secret, id: "€".repeat(170) })).status).toBe(202);
  });

  it("accepts a full Meta batch: 1,000 changes with real-length ids, over 256 KB", () => {
    // As Meta batches them: one entry per page update, each with its leadgen change.
    const entries = Array.from({ length: 1_000 }, (_, index) => {
      const leadgenId = String(12_345_678_901_234_567n + BigInt(index));
      const value = `{"ad_id":"23851234567890123","form_id":"1234567890123456","leadgen_id":"${leadgenId}","created_time":1764000000,"page_id":"1047365023412345","adgroup_id":"23851234567890123"}`;
      return `{"id":"1047365023412345","time":1764000000,"changes":[{"value":${value},"field":"leadgen"}]}`;
    });
    const body = `{"object":"page","entry":[${entries.join(",")}]}`;
    expect(Buffer.byteLength(body)).toBeGreaterThan(256 * 1024);
    const headers = {
      "content-type": "application/json",
      "x-hub-signature-256": metaSignature(body, testSecrets.META_APP_SECRET),
    };
    const acceptance = receive({ path: "/webhooks/meta", headers, body });
    expect(acceptance.messages).toHaveLength(1_000);
    expect(new Set(acceptance.messages.map((message) => message.receipt.platformLeadId)).size).toBe(1_000);
  });

  it("requires a JSON content type from Google Ads, as from the others (no browser can send one without CORS)", () => {
    const delivery = googleAdsDelivery({
      key: testSecrets.GOOGLE_ADS_WEBHOOK_KEY,
      columns: { EMAIL: "a@example.com" },
    });
    const asText = { ...delivery, headers: { "content-type": "text/plain" } };
    expect(errorOf(() => receive(asText)).code).toBe("unsupported_media_type");
    expect(errorOf(() => receive({ ...delivery, headers: {} })).code).toBe("unsupported_media_type");
  });
});

describe("secrets and rotation", () => {
  const partnerSecret = `whsec_${Buffer.from("partner-form-secret-0123456789").toString("base64")}`;
  const multiSourced = createInbound({
    sources: parseSources(`
sources:
  form: { type: form }
  contact: { type: form }
  partner: { type: form, signingSecret: FORM_SIGNING_SECRET_PARTNER }
  google-ads: { type: google-ads }
`),
    secrets: {
      formSigningSecrets: { FORM_SIGNING_SECRET: [secret], FORM_SIGNING_SECRET_PARTNER: [partnerSecret] },
      metaAppSecret: testSecrets.META_APP_SECRET,
      googleAdsWebhookKeys: ["old-google-key", "new-google-key"],
    },
  });
  const receiveAt = (delivery: { path: string; headers: Record<string, string>; body: string }) =>
    multiSourced.receive(delivery.path.replace("/webhooks/", ""), {
      headers: delivery.headers,
      query: {},
      body: Buffer.from(delivery.body),
    });

  it("verifies a form source with the secret it names, and not with the default one", () => {
    const signedByPartner = formDelivery({ email: "a@example.com" }, { secret: partnerSecret, source: "partner" });
    expect(receiveAt(signedByPartner).status).toBe(202);
    const signedByDefault = formDelivery({ email: "a@example.com" }, { secret, source: "partner" });
    expect(errorOf(() => receiveAt(signedByDefault)).code).toBe("invalid_signature");
    const partnerToForm = formDelivery({ email: "a@example.com" }, { secret: partnerSecret, source: "form" });
    expect(errorOf(() => receiveAt(partnerToForm)).code).toBe("invalid_signature");
  });

  it("gives a delivery replayed to another source sharing its secret the same identity, so it counts once", () => {
    const delivery = formDelivery({ email: "a@example.com" }, { secret, source: "form" });
    const replayed = { ...delivery, path: "/webhooks/contact" };
    const [original] = receiveAt(delivery).messages;
    const [replay] = receiveAt(replayed).messages;
    expect(replay?.receipt.source).toBe("contact");
    expect(deliveryScope(replay?.receipt as CaptureReceipt)).toBe(deliveryScope(original?.receipt as CaptureReceipt));
    expect(replay?.receipt.platformLeadId).toBe(original?.receipt.platformLeadId);
  });

  it("accepts every Google Ads key listed while one is rotated", () => {
    for (const key of ["old-google-key", "new-google-key"]) {
      expect(receiveAt(googleAdsDelivery({ key, columns: { EMAIL: "a@example.com" } })).status).toBe(200);
    }
    expect(errorOf(() => receiveAt(googleAdsDelivery({ key: "old", columns: { EMAIL: "a@example.com" } }))).code).toBe(
      "unauthorized",
    );
  });

  it("refuses a signing secret on a source that is not a form", () => {
    expect(() => parseSources("sources:\n  g: { type: google-ads, signingSecret: FORM_SIGNING_SECRET_X }\n")).toThrow(
      /only form sources/,
    );
  });
});
