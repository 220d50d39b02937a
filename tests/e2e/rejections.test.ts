import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody } from "../helpers/errors.ts";
import { formDelivery, googleAdsDelivery, metaDelivery, signedDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";

const client = stackClient();
const secret = testSecrets.FORM_SIGNING_SECRET;
const run = randomUUID().slice(0, 8);
const email = (label: string) => `${label}-${run}@rejected.example`;

describe("bad deliveries", () => {
  let deadLettersBefore = 0;
  let leadsBefore = 0;
  beforeAll(async () => {
    await client.drained();
    deadLettersBefore = await client.deadLetterDepth();
    leadsBefore = await client.leadCount();
  });

  const cases = [
    {
      what: "a tampered form body",
      status: 401,
      code: "invalid_signature",
      email: email("tampered"),
      delivery: () => {
        const delivery = formDelivery({ email: email("original") }, { secret });
        return { ...delivery, body: JSON.stringify({ email: email("tampered") }) };
      },
    },
    {
      what: "a form signed six minutes ago",
      status: 401,
      code: "invalid_signature",
      email: email("expired"),
      delivery: () => formDelivery({ email: email("expired") }, { secret, at: new Date(Date.now() - 6 * 60_000) }),
    },
    {
      what: "a form signed with another secret",
      status: 401,
      code: "invalid_signature",
      email: email("other-secret"),
      delivery: () =>
        formDelivery(
          { email: email("other-secret") },
          { secret: `whsec_${Buffer.from("not ours at all!").toString("base64")}` },
        ),
    },
    {
      what: "a Meta delivery with a bad X-Hub-Signature-256",
      status: 401,
      code: "invalid_signature",
      email: undefined,
      delivery: () => metaDelivery([{ leadgenId: "80000000000000001" }], "not-the-app-secret"),
    },
    {
      what: "a Google Ads lead with the wrong google_key",
      status: 401,
      code: "unauthorized",
      email: email("google-key"),
      delivery: () => googleAdsDelivery({ key: "guess", columns: { EMAIL: email("google-key") } }),
    },
    {
      what: "an undeclared source",
      status: 404,
      code: "unknown_source",
      email: email("unknown-source"),
      delivery: () => formDelivery({ email: email("unknown-source") }, { secret, source: "fax" }),
    },
    {
      what: "a body that is not JSON",
      status: 400,
      code: "invalid_body",
      email: undefined,
      delivery: () => signedDelivery(`{"email": "${email("broken")}"`, "application/json", { secret }),
    },
    {
      what: "a content type we do not read",
      status: 415,
      code: "unsupported_media_type",
      email: email("xml"),
      delivery: () => signedDelivery(`<email>${email("xml")}</email>`, "application/xml", { secret }),
    },
    {
      what: "a lead with neither email nor phone",
      status: 422,
      code: "validation_failed",
      email: undefined,
      delivery: () => formDelivery({ company: "Acme", email: "not-an-email" }, { secret }),
    },
    {
      what: "a body over 256 KB",
      status: 413,
      code: "payload_too_large",
      email: email("large"),
      delivery: () => formDelivery({ email: email("large"), notes: "x".repeat(257 * 1024) }, { secret }),
    },
  ];

  it.each(cases)("$what -> $status $code", async ({ delivery, status, code }) => {
    const response = await client.send(delivery());
    expect(response.status).toBe(status);
    expectErrorBody(response.body, code);
  });

  it("stores none of them, and leaves nothing on the queue or in the DLQ", async () => {
    await client.drained();
    expect(await client.leadCount()).toBe(leadsBefore);
    for (const { email: address } of cases) {
      if (address) expect(await client.leadsByEmail(address)).toEqual([]);
    }
    expect(await client.leadsByEmail(email("original"))).toEqual([]);
    expect(await client.deadLetterDepth()).toBe(deadLettersBefore);
  });
});
