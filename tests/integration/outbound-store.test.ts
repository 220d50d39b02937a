import { randomUUID } from "node:crypto";
import { dynamoClient } from "@leadflow/local";
import { createOutboundStore, type LedgerClaim, type OutboundStore } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { freshTable } from "../helpers/tables.ts";

const engines = inject("emulators").dynamodb;

describe.each(engines)("the outbound ledger on $name", ({ endpoint }) => {
  let clock = new Date("2026-11-24T10:00:00.000Z");
  let store: OutboundStore;

  beforeAll(async () => {
    const client = dynamoClient(endpoint);
    store = createOutboundStore({ client, tableName: await freshTable(client), now: () => clock });
  });

  const message = () => ({ id: `m-${randomUUID()}`, channel: "sms" as const, purpose: "speed-to-lead-alert" });
  const tokenOf = (claim: LedgerClaim) => (claim.status === "claimed" ? claim.token : undefined);

  it("gives a message to exactly one of many concurrent deliveries", async () => {
    const sms = message();
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claim(sms, 20)));
    expect(claims.filter((claim) => claim.status === "claimed")).toHaveLength(1);
    expect(claims.filter((claim) => claim.status === "busy")).toHaveLength(7);
  });

  it("never claims a message marked sent again, and ignores a stale claim's calls", async () => {
    const sms = message();
    const first = tokenOf(await store.claim(sms, 20)) as string;
    await store.release(sms.id, first, "OutboundUnavailableError");
    expect(await store.find(sms.id)).toMatchObject({ state: "failed", lastError: "OutboundUnavailableError" });

    const second = tokenOf(await store.claim(sms, 20)) as string;
    expect(second).toBeDefined();
    await store.markSent(sms.id, first, { providerMessageId: "stale" });
    expect(await store.find(sms.id)).toMatchObject({ state: "sending" });

    await store.markSent(sms.id, second, { providerMessageId: "p-1" });
    expect(await store.find(sms.id)).toMatchObject({ state: "sent", providerMessageId: "p-1" });
    expect(await store.claim(sms, 20)).toEqual({ status: "sent" });
    await store.release(sms.id, second, "late");
    expect(await store.find(sms.id)).toMatchObject({ state: "sent" });
  });

  it("lets another delivery take over a claim whose lease ran out (its holder crashed)", async () => {
    const sms = message();
    expect((await store.claim(sms, 20)).status).toBe("claimed");
    clock = new Date(clock.getTime() + 19_000);
    expect(await store.claim(sms, 20)).toEqual({ status: "busy" });
    clock = new Date(clock.getTime() + 2_000);
    expect((await store.claim(sms, 20)).status).toBe("claimed");
  });
});
