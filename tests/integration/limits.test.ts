import { randomUUID } from "node:crypto";
import {
  type BehaviourEvent,
  type Capture,
  type HistoryEntry,
  ingestCapture,
  type Lead,
  type LeadRepository,
  leadLimits,
  maxEmailLength,
  maxPlatformLeadIdBytes,
  recordEvents,
} from "@leadflow/core";
import { dynamoClient } from "@leadflow/local";
import { createLeadStore, type LeadStore } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { memoryRepository } from "../helpers/memory-repository.ts";
import { scoringDependencies } from "../helpers/scoring.ts";
import { freshTable } from "../helpers/tables.ts";

/** Three bytes of UTF-8 per UTF-16 unit: the most any text can weigh per character counted. */
const heavy = (length: number, salt = "") => `${salt}${"€".repeat(Math.max(0, length - salt.length))}`;
const now = "2026-11-24T10:00:00.000Z";

/** A platform id of exactly the byte limit. */
function longestPlatformId(index: number): string {
  const suffix = `-${index}`;
  const euros = Math.floor((maxPlatformLeadIdBytes - suffix.length) / 3);
  return `${"€".repeat(euros)}${"x".repeat(maxPlatformLeadIdBytes - suffix.length - euros * 3)}${suffix}`;
}

function longestEmail(index: number): string {
  const domain = `@d${index}.example.com`;
  return `${"a".repeat(maxEmailLength - domain.length)}${domain}`;
}

/**
 * A capture at every limit a delivery can reach: every profile and attribution field at its
 * longest, in the heaviest characters, a new email and phone, and a new set of custom fields
 * (with the longest names forms allow) that alone fills the custom budget.
 */
function heaviestCapture(index: number): Capture {
  const salt = `${index}:`;
  const custom = Object.fromEntries(
    Array.from({ length: 30 }, (_, field) => [heavy(256, `${index}.${field}.`), heavy(700, salt)]),
  );
  return {
    receipt: {
      source: "s".repeat(63),
      scope: "x".repeat(128),
      platformLeadId: longestPlatformId(index),
      receivedAt: new Date(Date.parse(now) + index * 1000).toISOString(),
      test: false,
      contentHash: "h".repeat(22),
    },
    lead: {
      email: longestEmail(index),
      phone: `+1415555${String(1000 + (index % 9000)).padStart(4, "0")}`,
      firstName: heavy(leadLimits.profileValueLength, salt),
      lastName: heavy(leadLimits.profileValueLength, salt),
      company: heavy(leadLimits.profileValueLength, salt),
      jobTitle: heavy(leadLimits.profileValueLength, salt),
      country: heavy(leadLimits.profileValueLength, salt),
      region: heavy(leadLimits.profileValueLength, salt),
      city: heavy(leadLimits.profileValueLength, salt),
      postalCode: heavy(leadLimits.profileValueLength, salt),
      custom,
      attribution: Object.fromEntries(
        ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "form_id", "campaign_id"].map(
          (name) => [name, heavy(leadLimits.attributionValueLength, salt)],
        ),
      ),
      consent: { email: index % 2 === 0, sms: index % 2 === 1 },
    },
  };
}

/** Events at their limits: the longest ids, in the heaviest characters, with the longest addresses. */
function heaviestEvents(batch: number): BehaviourEvent[] {
  return Array.from({ length: 100 }, (_, index) => ({
    id: heavy(128, `${batch}.${index}.`),
    type: "page_view",
    at: now,
    properties: { url: `https://example.com/${heavy(1_980)}`, referrer: heavy(2_000) },
  }));
}

/** The memory repository, keeping the heaviest lead any write produced (pending effects and all). */
function recordingHeaviest() {
  const memory = memoryRepository();
  let heaviest: { lead: Lead; bytes: number } | undefined;
  const repository: LeadRepository = {
    ...memory.repository,
    async saveLead(lead, expectedVersion) {
      const bytes = Buffer.byteLength(JSON.stringify(lead));
      if (!heaviest || bytes > heaviest.bytes) heaviest = { lead: structuredClone(lead), bytes };
      return memory.repository.saveLead(lead, expectedVersion);
    },
  };
  return { memory, repository, heaviest: () => heaviest };
}

describe("the largest lead item anyone can make", () => {
  const folded = (async () => {
    const { memory, repository, heaviest } = recordingHeaviest();
    const { dependencies } = scoringDependencies(repository, { now: () => now });
    let minted = 0;
    const deps = { ...dependencies, newLeadId: () => (minted++ === 0 ? "lead-heaviest" : `lead-${minted}`) };
    // Thousands of deliveries for one person, every one at its limits (anyone can post a public
    // form with someone else's email), then the heaviest event batches.
    // Each delivery shares the person's email or phone and brings a new one of the other.
    const captures = 2_000;
    const person = { email: longestEmail(0), phone: "+14155550100" };
    for (let index = 0; index < captures; index++) {
      const { receipt, lead } = heaviestCapture(index);
      const known = index === 0 ? person : index % 2 === 0 ? { email: person.email } : { phone: person.phone };
      await ingestCapture(deps, receipt, () => ({ ...lead, ...known }));
    }
    for (let batch = 0; batch < 3; batch++) await recordEvents(deps, "lead-heaviest", heaviestEvents(batch));
    return { lead: memory.leads.get("lead-heaviest") as Lead, heaviest: heaviest(), captures };
  })();

  it("stays bounded: the first and newest deliveries, counted; the custom budget; a few identifiers", async () => {
    const { lead, captures } = await folded;
    expect(lead.phones).toHaveLength(leadLimits.identifiersPerKind);
    expect(lead.sources).toHaveLength(leadLimits.sourcesKept);
    expect(lead.sourceCount).toBe(captures);
    expect(lead.emails).toHaveLength(leadLimits.identifiersPerKind);
    expect(Buffer.byteLength(JSON.stringify(lead.custom))).toBeLessThanOrEqual(leadLimits.customBytes);
    expect(lead.pending).toBeUndefined();
  });

  it("is far below DynamoDB's 400 KB at its heaviest, pending history included", async () => {
    const { heaviest } = await folded;
    expect(heaviest?.bytes).toBeLessThan(300 * 1024);
  });

  describe.each(inject("emulators").dynamodb)("on $name", ({ endpoint }) => {
    let store: LeadStore;
    beforeAll(async () => {
      const client = dynamoClient(endpoint);
      store = createLeadStore({ client, tableName: await freshTable(client) });
    });

    it("is stored and read back whole", async () => {
      const { heaviest } = await folded;
      const lead = { ...(heaviest?.lead as Lead), id: randomUUID() };
      expect(await store.saveLead(lead, undefined)).toBe(true);
      expect(await store.getLead(lead.id)).toEqual(lead);
    });
  });
});

describe.each(inject("emulators").dynamodb)("every key at its longest, on $name", ({ endpoint }) => {
  let store: LeadStore;
  beforeAll(async () => {
    const client = dynamoClient(endpoint);
    store = createLeadStore({ client, tableName: await freshTable(client) });
  });

  it("stores a delivery pin and its history entry with the longest scope and platform id", async () => {
    const receipt = {
      source: "s".repeat(63),
      scope: "~".repeat(128),
      platformLeadId: longestPlatformId(1),
      receivedAt: now,
      test: false,
    };
    expect(await store.pinReceipt(receipt, "lead-1")).toEqual({ leadId: "lead-1", applied: false });
    await store.markReceiptApplied(receipt);
    expect(await store.findReceipt(receipt)).toEqual({ leadId: "lead-1", applied: true });
    const entry: HistoryEntry = {
      leadId: randomUUID(),
      id: `capture:${receipt.scope}:${receipt.platformLeadId}`,
      at: now,
      type: "lead.captured",
      summary: "Created",
      details: {},
    };
    // DynamoDB Local refuses a sort key over 1,024 bytes; dynalite does not check.
    await expect(store.recordHistory(entry)).resolves.toBeUndefined();
  });

  it("stores events with the longest ids, in the heaviest characters, and their history entries", async () => {
    const leadId = randomUUID();
    const [event] = heaviestEvents(9);
    await store.storeEvents(leadId, [event as BehaviourEvent]);
    expect((await store.listEvents(leadId)).map((stored) => stored.event.id)).toEqual([event?.id]);
    const entry: HistoryEntry = {
      leadId,
      id: `event:${event?.id}`,
      at: now,
      type: "lead.event",
      summary: "",
      details: {},
    };
    await expect(store.recordHistory(entry)).resolves.toBeUndefined();
  });

  it("claims the longest email, and looks up the longest lead id a path may carry without failing", async () => {
    const email = longestEmail(7);
    expect(await store.claim({ kind: "email", value: email }, "lead-7")).toBe("lead-7");
    expect(await store.findLeadIdByEmail(email)).toBe("lead-7");
    expect(await store.getLead(heavy(128))).toBeUndefined();
    expect(await store.leadExists(heavy(128))).toBe(false);
  });
});
