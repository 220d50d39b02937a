import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LeadView } from "@leadflow/core";
import { type LocalStack, startLocalStack } from "@leadflow/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventTap } from "../helpers/event-tap.ts";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * A stack of its own, whose config/sources.yaml adds a form source that alerts on arrival (the
 * shipped config has none), whose domain events this file reads through a subscription of its own.
 */
let stack: LocalStack;
let configDir: string;
/** Every domain event the stack publishes, as a subscribed consumer receives it. */
let tap: Awaited<ReturnType<typeof eventTap>>;

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), "leadflow-arrivals-"));
  cpSync("config", configDir, { recursive: true });
  appendFileSync(join(configDir, "sources.yaml"), "  partner-form:\n    type: form\n    alertOnArrival: true\n");
  stack = await startLocalStack({
    port: 0,
    fast: true,
    configDir,
    environment: { ...testSecrets, POWERTOOLS_LOG_LEVEL: "ERROR" },
  });
  tap = await eventTap(stack.endpoints.sqs, stack.domainEventTopicArn);
});

afterAll(async () => {
  await stack?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

async function post(source: string, email: string): Promise<number> {
  const delivery = formDelivery(
    { email, company: "Acme Rockets" },
    { secret: testSecrets.FORM_SIGNING_SECRET, source },
  );
  const response = await fetch(`${stack.url}${delivery.path}`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  });
  return response.status;
}

async function leadOf(email: string): Promise<LeadView | undefined> {
  const response = await fetch(`${stack.url}/leads?email=${encodeURIComponent(email)}`, {
    headers: { "x-api-key": testSecrets.ADMIN_API_KEY },
  });
  return ((await response.json()) as { items: LeadView[] }).items[0];
}

describe("lead.arrived", () => {
  it("announces a lead created from a source with alertOnArrival once, and no lead of another source", async () => {
    const run = Date.now();
    const partnerLead = `arrival-${run}@acme-rockets.com`;
    const formLead = `no-arrival-${run}@acme-rockets.com`;

    expect(await post("partner-form", partnerLead)).toBe(202);
    expect(await post("form", formLead)).toBe(202);
    await waitFor(async () => (await stack.pendingMessages()) === 0, 30_000, "the captures to be stored");
    // The same person again from the alerting source: merged into the lead, not a new arrival.
    expect(await post("partner-form", partnerLead)).toBe(202);
    await waitFor(async () => (await leadOf(partnerLead))?.sources.length === 2, 30_000, "the second delivery");

    const partner = (await leadOf(partnerLead)) as LeadView;
    const other = (await leadOf(formLead)) as LeadView;
    const events = await tap.all();
    const arrivals = events.filter(({ event }) => event.type === "lead.arrived");
    expect(arrivals).toEqual([
      {
        type: "lead.arrived",
        event: {
          id: `${partner.id}:lead.arrived:1`,
          type: "lead.arrived",
          leadId: partner.id,
          at: expect.any(String),
          source: "partner-form",
          test: false,
          score: expect.objectContaining({ total: expect.any(Number) }),
          temperature: expect.any(String),
          stage: expect.any(String),
          configVersion: expect.stringMatching(/^[0-9a-f]{12}$/),
        },
      },
    ]);
    expect(events.filter(({ event }) => event.leadId === other.id)).toEqual([]);
  });
});
