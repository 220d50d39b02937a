import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { ingestCapture, parseScoring, recordEvents, refreshTemperatures } from "@leadflow/core";
import { dynamoClient } from "@leadflow/local";
import { createEntities, createLeadStore, type Entities, type LeadStore } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { scoringDependencies, testClock } from "../helpers/scoring.ts";
import { freshTable } from "../helpers/tables.ts";

const engines = inject("emulators").dynamodb;

describe.each(engines)("scoring on the table, on $name", ({ endpoint }) => {
  let store: LeadStore;
  let entities: Entities;

  beforeAll(async () => {
    const client = dynamoClient(endpoint);
    const tableName = await freshTable(client);
    store = createLeadStore({ client, tableName });
    entities = createEntities(client, tableName);
  });

  async function leadWithDemoRequest(clock: ReturnType<typeof testClock>) {
    const { dependencies, published } = scoringDependencies(store, { now: clock.now });
    const delivery = capture({ email: `cools-${randomUUID()}@gmail.com` }, { receivedAt: clock.now() });
    const { leadId } = await ingestCapture(
      { ...dependencies, newLeadId: randomUUID },
      delivery.receipt,
      () => delivery.lead,
    );
    await recordEvents(dependencies, leadId, [{ id: "demo", type: "demo_request", at: clock.now(), properties: {} }]);
    return { leadId, dependencies, published };
  }

  async function coolingBy(now: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of store.leadsCoolingBy(now)) ids.push(...page);
    return ids;
  }

  it("lists a warm lead in the cooling index from when it may cool, and the refresh turns it cold then", async () => {
    const clock = testClock();
    const { leadId, dependencies } = await leadWithDemoRequest(clock);
    const warm = await store.getLead(leadId);
    expect(warm?.qualification).toMatchObject({ temperature: "warm", score: { total: 35 } });
    const coolsAt = warm?.qualification?.coolsAt as string;
    expect(coolsAt > clock.now()).toBe(true);
    expect(await coolingBy(clock.now())).not.toContain(leadId);

    clock.set(coolsAt);
    expect(await coolingBy(clock.now())).toContain(leadId);
    const result = await refreshTemperatures(dependencies, store.leadsCoolingBy(clock.now()));
    expect(result.changed).toBeGreaterThanOrEqual(1);
    const cooled = await store.getLeadWithHistory(leadId);
    expect(cooled?.lead.qualification).toMatchObject({ temperature: "cold" });
    expect(cooled?.lead.qualification?.coolsAt).toBeUndefined();
    expect(cooled?.history[0]).toMatchObject({ type: "temperature.changed", details: { from: "warm", to: "cold" } });
    clock.advanceDays(400);
    expect(await coolingBy(clock.now())).not.toContain(leadId);
  });

  it("replays a lead's stored events when the config has changed since it was scored", async () => {
    const clock = testClock();
    const { leadId, dependencies } = await leadWithDemoRequest(clock);
    const cheaperDemos = parseScoring(
      readFileSync("config/scoring.yaml", "utf8").replace(
        "event: demo_request\n      points: 40",
        "event: demo_request\n      points: 10",
      ),
    );
    expect(cheaperDemos.version).not.toBe(dependencies.model.version);
    const replaying = { ...dependencies, model: cheaperDemos };
    await recordEvents(replaying, leadId, [{ id: "open", type: "email_open", at: clock.now(), properties: {} }]);
    const lead = await store.getLead(leadId);
    expect(lead?.qualification).toMatchObject({
      configVersion: cheaperDemos.version,
      score: { fit: -5, engagement: 11, total: 6 },
    });
  });

  it("stores an event once, first body wins, and marks it applied once the lead is scored", async () => {
    const clock = testClock();
    const { leadId } = await leadWithDemoRequest(clock);
    const view = { id: "view", type: "page_view", at: clock.now(), properties: { url: "https://example.com/" } };
    expect(await store.storeEvents(leadId, [view])).toEqual([{ event: view, applied: false }]);
    expect(await store.storeEvents(leadId, [{ ...view, type: "email_open" }])).toEqual([
      { event: view, applied: false },
    ]);
    await store.markEventsApplied(leadId, ["view"]);
    expect(await store.listEvents(leadId)).toEqual([
      { event: expect.objectContaining({ id: "demo", type: "demo_request" }), applied: true },
      { event: view, applied: true },
    ]);
  });

  it("counts an event stored before events carried an applied flag as applied, so replays keep it", async () => {
    const clock = testClock();
    const { leadId } = await leadWithDemoRequest(clock);
    const { event } = entities;
    await event
      .create({ leadId, eventId: "older", type: "email_open", at: clock.now(), properties: {}, storedAt: clock.now() })
      .go();
    expect(await store.listEvents(leadId)).toContainEqual({
      event: { id: "older", type: "email_open", at: clock.now(), properties: {} },
      applied: true,
    });
  });
});
