import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { channelWindows, type LeadView, leadTimeZones, type SendWindow, windowHolds } from "@leadflow/core";
import { dynamoClient, type LocalStack, sqsClient, startLocalStack } from "@leadflow/local";
import { createNurtureStore } from "@leadflow/store";
import { DateTime, Duration } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { inParallel, waitFor } from "../helpers/wait.ts";

/**
 * A month of nurture played out on the local clock, on a stack of its own (its clock moves):
 * 200 cold leads across time zones, two sequences competing for the same caps, exits, an
 * unsubscribe, a config change mid-sequence and a step message delivered three times.
 */

const weekdays: SendWindow = { days: [1, 2, 3, 4, 5], from: 9 * 60, to: 17 * 60 };
const afternoons: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], from: 12 * 60, to: 18 * 60 };
const windows: Record<string, SendWindow> = { A: weekdays, B: afternoons };

const reactivation = (offerVersion: string) => `id: reactivation
entry: { temperature: cold, coldForDays: 3 }
window: { days: mon-fri, from: "09:00", to: "17:00" }
caps: { perDay: 1, perWeek: 3 }
from: { email: "Acme <hello@acme.example>", sms: "+14155550000" }
steps:
  - email: { subject: "[A1] Still there, {{ lead.firstName }}?", template: a1.liquid }
  - wait: 2d
  - sms: { text: "[A2] Hi {{ lead.firstName }}, reply YES for a call. STOP to opt out" }
  - wait: 1d
  - email: { subject: "[A3] An offer", template: a3-${offerVersion}.liquid }
`;

const digest = `id: digest
entry: { temperature: cold, coldForDays: 3 }
window: { days: daily, from: "12:00", to: "18:00" }
caps: { perDay: 1, perWeek: 3 }
from: { email: "Acme <news@acme.example>" }
steps:
  - email: { subject: "[B1] What is new", template: b1.liquid }
`;

const templates: Record<string, string> = {
  "a1.liquid":
    "Hi {{ lead.firstName }}, still looking at {{ lead.company | default: 'us' }}?\nUnsubscribe: {{ unsubscribe_url }}\n",
  "a3-v1.liquid": "Offer v1 for {{ lead.firstName }}.\nUnsubscribe: {{ unsubscribe_url }}\n",
  "a3-v2.liquid": "Offer v2 for {{ lead.firstName }}.\nUnsubscribe: {{ unsubscribe_url }}\n",
  "b1.liquid": '<p>News for {{ lead.firstName }}.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
};

/** Where each lead is, as a form tells: its own zone, a phone's country, a country, or nothing. */
const places = [
  { timezone: "America/New_York", phone: "+1212555" },
  { timezone: "Europe/London", phone: "+44770090" },
  { timezone: "Asia/Tokyo" },
  { timezone: "Australia/Sydney", phone: "+6149157" },
  { timezone: "America/Los_Angeles" },
  { phone: "+44770091" },
  { country: "JP" },
  {},
] as const;

interface LeadSpec {
  email: string;
  fields: Record<string, string>;
  smsConsent: boolean;
  batch: 1 | 2;
}

function leadSpec(index: number, batch: 1 | 2): LeadSpec {
  const place = places[index % places.length] as { timezone?: string; phone?: string; country?: string };
  const smsConsent = index % 2 === 0;
  const fields: Record<string, string> = {
    email: `nurture-${batch}-${index}@acme-test.example`,
    first_name: `Lead${index}`,
  };
  if (place.timezone) fields.timezone = place.timezone;
  if (place.country) fields.country = place.country;
  if (place.phone) fields.phone = `${place.phone}${batch}${String(index).padStart(3, "0")}`;
  if (place.phone && smsConsent) fields.sms_consent = "yes";
  return { email: fields.email as string, fields, smsConsent: Boolean(place.phone && smsConsent), batch };
}

interface Message {
  id: string;
  channel: "email" | "sms";
  to: string;
  subject?: string;
  text: string;
  headers?: Record<string, string>;
  at: string;
}

let stack: LocalStack;
let configDir: string;
let configChanged: () => void = () => undefined;
const specs = new Map<string, LeadSpec>();

const admin = { "x-api-key": testSecrets.ADMIN_API_KEY };
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

async function capture(spec: LeadSpec) {
  const delivery = formDelivery(spec.fields, { secret: testSecrets.FORM_SIGNING_SECRET });
  const response = await fetch(`${stack.url}${delivery.path}`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  });
  expect(response.status).toBe(202);
  specs.set(spec.email, spec);
  if (spec.fields.phone) specs.set(spec.fields.phone, spec);
}

async function settled() {
  await waitFor(async () => (await stack.pendingMessages()) === 0, 60_000, "the queues to drain");
}

/** Moves the clock in steps, letting every schedule that comes due run and its work drain. */
async function advance(total: string, step = "PT6H") {
  const end = DateTime.fromISO(await clockNow()).plus(Duration.fromISO(total));
  while (DateTime.fromISO(await clockNow()) < end) {
    expect((await post("/_local/clock", { advance: step })).status).toBe(200);
    await settled();
  }
}

async function clockNow(): Promise<string> {
  return ((await (await fetch(`${stack.url}/_local/clock`)).json()) as { now: string }).now;
}

/** The nurture messages sent to the test's leads (not the reps' alerts, nor STOP's confirmation). */
async function messages(): Promise<Message[]> {
  const body = (await (await fetch(`${stack.url}/_local/messages`)).json()) as { items: Message[] };
  return body.items.filter((message) => specs.has(message.to) && stepOf(message) !== undefined);
}

/** An SNS HTTPS notification carrying End User Messaging's inbound SMS (npm start checks no signature). */
function inboundSms(from: string, messageBody: string) {
  return {
    Type: "Notification",
    MessageId: crypto.randomUUID(),
    TopicArn: "arn:aws:sns:us-east-1:000000000000:leadflow-sms-inbound",
    Message: JSON.stringify({
      originationNumber: from,
      destinationNumber: "+14155550000",
      messageKeyword: "KEYWORD_000000000000",
      messageBody,
      inboundMessageId: crypto.randomUUID(),
    }),
    Timestamp: new Date().toISOString(),
    SignatureVersion: "1",
    Signature: "unchecked-locally",
    SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
  };
}

const stepOf = (message: Message) => /\[(A1|A2|A3|B1)\]/.exec(message.subject ?? message.text)?.[1] as string;

async function leadOf(email: string): Promise<LeadView> {
  const response = await fetch(`${stack.url}/leads?email=${encodeURIComponent(email)}`, { headers: admin });
  return ((await response.json()) as { items: LeadView[] }).items[0] as LeadView;
}

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), "leadflow-nurture-"));
  cpSync("config", configDir, { recursive: true });
  rmSync(join(configDir, "sequences"), { recursive: true });
  mkdirSync(join(configDir, "sequences"));
  writeFileSync(join(configDir, "sequences", "reactivation.yaml"), reactivation("v1"));
  writeFileSync(join(configDir, "sequences", "digest.yaml"), digest);
  for (const [name, text] of Object.entries(templates)) writeFileSync(join(configDir, "templates", name), text);
  stack = await startLocalStack({
    port: 0,
    fast: true,
    configDir,
    environment: { ...testSecrets, POWERTOOLS_LOG_LEVEL: "ERROR" },
    onConfigChange: (change) => {
      if ("scoringVersion" in change) configChanged();
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

describe("a month of nurture on the local clock", () => {
  const exits = { replied: "", hot: "", unsubscribed: "" };
  const exitedAt: Record<string, string> = {};
  let stopped = "";
  let stoppedAt = "";

  it("enrols 200 cold leads and plays the sequences out, with exits, an unsubscribe and a config change", async () => {
    await inParallel(
      Array.from({ length: 200 }, (_, index) => leadSpec(index, 1)),
      8,
      capture,
    );
    await settled();
    // Day 3 and a bit: the leads are cold long enough, the first emails go in their windows.
    await advance("P4D");
    const first = await messages();
    expect(
      new Set(first.filter((message) => stepOf(message) === "A1").map((message) => message.to)).size,
    ).toBeGreaterThan(150);

    // Three leads leave: one replies, one turns hot, one unsubscribes from the link of an email.
    const reached = [...new Set(first.filter((message) => stepOf(message) === "A1").map((message) => message.to))];
    [exits.replied, exits.hot, exits.unsubscribed] = reached.slice(0, 3) as [string, string, string];
    const now = await clockNow();
    const replied = await leadOf(exits.replied);
    const hot = await leadOf(exits.hot);
    expect(
      (await post(`/leads/${replied.id}/events`, { events: [{ id: "r1", type: "reply", at: now }] }, admin)).status,
    ).toBe(202);
    const hotEvents = [
      { id: "h1", type: "demo_request", at: now },
      { id: "h2", type: "meeting_booked", at: now },
    ];
    expect((await post(`/leads/${hot.id}/events`, { events: hotEvents }, admin)).status).toBe(202);
    const email = first.find((message) => message.to === exits.unsubscribed && message.channel === "email") as Message;
    const link = /<(http[^>]+)>/.exec(email.headers?.["List-Unsubscribe"] ?? "")?.[1] as string;
    expect(email.headers?.["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect((await fetch(link)).status).toBe(200);
    const unsubscribed = await fetch(link, { method: "POST", body: "List-Unsubscribe=One-Click" });
    expect(unsubscribed.status).toBe(200);
    for (const key of Object.values(exits)) exitedAt[key] = now;
    // A message planned before the unsubscribe and still queued is dropped when it would go.
    const sqs = sqsClient(stack.endpoints.sqs);
    const late = {
      id: "nurture-late-1",
      purpose: "nurture-reactivation",
      channel: "email",
      to: exits.unsubscribed,
      from: "Acme <hello@acme.example>",
      subject: "[A3] Planned before the unsubscribe",
      text: "Late",
      marketing: { zones: ["UTC"], windows: [{ days: [1, 2, 3, 4, 5, 6, 7], from: 0, to: 1440 }] },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.outbound.url, MessageBody: JSON.stringify(late) }));
    // A lead with SMS consent texts STOP before its SMS step: no SMS reaches it after.
    const texted = reached.find((email) => specs.get(email)?.smsConsent && !Object.values(exits).includes(email));
    stopped = texted as string;
    const stop = await fetch(`${stack.url}/webhooks/sms-inbound`, {
      method: "POST",
      headers: { "content-type": "text/plain; charset=UTF-8" },
      body: JSON.stringify(inboundSms(specs.get(stopped)?.fields.phone as string, "STOP")),
    });
    expect(stop.status).toBe(200);
    stoppedAt = now;
    await settled();

    // A step message delivered twice more (a tick and two copies) is sent once.
    const store = createNurtureStore({ client: dynamoClient(stack.endpoints.dynamodb), tableName: stack.tableName });
    await advance("P1D");
    for await (const due of store.dueSteps(await clockNow())) {
      for (const step of due) {
        for (let copy = 0; copy < 2; copy++) {
          await sqs.send(
            new SendMessageCommand({ QueueUrl: stack.queues.nurture.url, MessageBody: JSON.stringify(step) }),
          );
        }
      }
    }
    await settled();

    // Mid-sequence, the offer changes: enrolled leads keep the version they started.
    const changed = new Promise<void>((resolve) => {
      configChanged = resolve;
    });
    writeFileSync(join(configDir, "sequences", "reactivation.yaml"), reactivation("v2"));
    await changed;
    await inParallel(
      Array.from({ length: 20 }, (_, index) => leadSpec(index, 2)),
      8,
      capture,
    );
    await settled();
    // The later leads' sequences play out within two weeks; the rest of the month a day at a time.
    await advance("P14D");
    await advance("P11D", "P1D");
  });

  it("sent every message inside its window, in every zone of its lead, and SMS only by day with consent", async () => {
    const sent = await messages();
    expect(sent.length).toBeGreaterThan(400);
    for (const message of sent) {
      const spec = specs.get(message.to) as LeadSpec;
      const zones = leadTimeZones(
        { timezone: spec.fields.timezone, phone: spec.fields.phone, country: spec.fields.country },
        "UTC",
      ).zones;
      const window = windows[stepOf(message).slice(0, 1)] as SendWindow;
      expect(
        windowHolds(channelWindows(message.channel, window), zones, new Date(message.at)),
        `${message.at} ${zones}`,
      ).toBe(true);
      if (message.channel === "sms") expect(spec.smsConsent).toBe(true);
    }
    const smsLeads = new Set(sent.filter((message) => message.channel === "sms").map((message) => message.to));
    expect(smsLeads.size).toBeGreaterThan(20);
  });

  it("sent each step once per lead, and never more than the caps allow", async () => {
    const sent = await messages();
    const byLead = Map.groupBy(sent, (message) => (specs.get(message.to) as LeadSpec).email);
    for (const [email, received] of byLead) {
      const steps = received.map(stepOf);
      expect(new Set(steps).size, `${email}: ${steps}`).toBe(steps.length);
      const zone = leadTimeZones(
        {
          timezone: specs.get(email)?.fields.timezone,
          phone: specs.get(email)?.fields.phone,
          country: specs.get(email)?.fields.country,
        },
        "UTC",
      ).zones[0] as string;
      const days = received.map((message) => DateTime.fromISO(message.at, { zone }).toISODate());
      expect(new Set(days).size, `${email}: two messages on one day`).toBe(days.length);
      const times = received.map((message) => Date.parse(message.at)).sort((a, b) => a - b);
      times.forEach((time, index) => {
        expect(
          times.filter((other) => other > time - 7 * 86_400_000 && other <= time).length,
          email,
        ).toBeLessThanOrEqual(3);
        expect(index).toBeGreaterThanOrEqual(0);
      });
    }
  });

  it("deferred the competing sequence's email to a later day rather than dropping it", async () => {
    const sent = await messages();
    const stillEnrolled = (email: string) => !Object.values(exits).includes(email);
    const both = [...Map.groupBy(sent, (message) => message.to)].filter(
      ([to, received]) => stillEnrolled(to) && received.some((message) => stepOf(message) === "A1"),
    );
    expect(both.length).toBeGreaterThan(150);
    for (const [, received] of both) expect(received.map(stepOf)).toContain("B1");
  });

  it("stopped writing to a lead that replied, turned hot or unsubscribed", async () => {
    const sent = await messages();
    for (const email of Object.values(exits)) {
      const after = sent.filter(
        (message) => (specs.get(message.to) as LeadSpec).email === email && message.at > (exitedAt[email] as string),
      );
      expect(after.map(stepOf), email).toEqual([]);
    }
    const phone = specs.get(stopped)?.fields.phone as string;
    const texts = sent.filter((message) => message.to === phone);
    expect(texts.filter((message) => message.at > stoppedAt && stepOf(message) === "A2")).toEqual([]);
    // Its emails go on; STOP stops SMS only.
    expect(sent.some((message) => message.to === stopped && message.at > stoppedAt)).toBe(true);
  });

  it("kept leads enrolled before the change on their version, and enrolled later ones on the new one", async () => {
    const offers = (await messages()).filter((message) => stepOf(message) === "A3");
    const versionOf = (message: Message) => /Offer (v\d)/.exec(message.text)?.[1];
    const batch = (message: Message) => (specs.get(message.to) as LeadSpec).batch;
    expect(offers.filter((message) => batch(message) === 1).length).toBeGreaterThan(100);
    expect(offers.filter((message) => batch(message) === 2).length).toBeGreaterThan(10);
    for (const offer of offers) expect(versionOf(offer)).toBe(batch(offer) === 1 ? "v1" : "v2");
  });
});

describe("the local clock and schedules", () => {
  it("moves only forward, by an ISO 8601 duration, and says 422 otherwise", async () => {
    for (const advance of ["-P1D", "P0D", "three days", ""]) {
      const response = await post("/_local/clock", { advance });
      expect(response.status, advance).toBe(422);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("validation_failed");
    }
    const before = Date.parse(await clockNow());
    const moved = (await (await post("/_local/clock", { advance: "PT1H" })).json()) as { now: string };
    expect(Date.parse(moved.now) - before).toBeGreaterThanOrEqual(3_600_000);
  });

  it("lists each schedule with its cron expression and next run on the local clock", async () => {
    const body = (await (await fetch(`${stack.url}/_local/schedules`)).json()) as {
      now: string;
      schedules: { name: string; schedule: string; nextRun: string }[];
    };
    expect(body.schedules.map((schedule) => schedule.name)).toEqual([
      "refresh-temperatures",
      "nurture-enrol",
      "nurture-step",
    ]);
    for (const schedule of body.schedules) {
      expect(schedule.schedule).toMatch(/^cron\(/);
      expect(Date.parse(schedule.nextRun)).toBeGreaterThan(Date.parse(body.now));
    }
  });
});
