import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ingestCapture, type LeadRepository, parseScoring, recordEvents } from "@leadflow/core";
import { dynamoClient } from "@leadflow/local";
import { createLeadStore, type LeadStore } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { rescoreAll } from "../../packages/local/src/rescore-run.ts";
import { capture } from "../helpers/captures.ts";
import { scoringDependencies } from "../helpers/scoring.ts";
import { freshTable } from "../helpers/tables.ts";

const endpoint = inject("emulators").dynamodb[0]?.endpoint as string;
const leadCount = 23;
const cheaperDemos = parseScoring(
  readFileSync("config/scoring.yaml", "utf8").replace(
    "event: demo_request\n      points: 40",
    "event: demo_request\n      points: 10",
  ),
);

describe("npm run rescore", () => {
  let store: LeadStore;
  let table: string;

  beforeAll(async () => {
    const client = dynamoClient(endpoint);
    table = await freshTable(client);
    store = createLeadStore({ client, tableName: table });
    const { dependencies } = scoringDependencies(store);
    for (let index = 0; index < leadCount; index++) {
      const delivery = capture({ email: `rescore-${index}-${randomUUID()}@acme-rockets.com` });
      const { leadId } = await ingestCapture(
        { ...dependencies, newLeadId: randomUUID },
        delivery.receipt,
        () => delivery.lead,
      );
      await recordEvents(dependencies, leadId, [
        { id: "demo", type: "demo_request", at: dependencies.now(), properties: {} },
      ]);
    }
  });

  it("re-scores every lead with the new config, and resumes after a crash where it stopped", async () => {
    const checkpointFile = join(await mkdtemp(join(tmpdir(), "rescore-")), "checkpoint.json");
    let saves = 0;
    const crashing: LeadRepository = {
      ...store,
      saveLead: (lead, expected) => {
        if (++saves > 12) throw new Error("crash");
        return store.saveLead(lead, expected);
      },
    };
    const run = (repository: LeadRepository) =>
      rescoreAll({
        store,
        dependencies: scoringDependencies(repository, { model: cheaperDemos }).dependencies,
        table,
        checkpointFile,
        pageSize: 5,
      });

    await expect(run(crashing)).rejects.toThrow("crash");
    const saved = JSON.parse(readFileSync(checkpointFile, "utf8"));
    expect(saved).toMatchObject({ configVersion: cheaperDemos.version, total: leadCount });
    expect(saved.done).toBeGreaterThan(0);
    expect(saved.done).toBeLessThan(leadCount);

    let resumedAt: number | undefined;
    const result = await rescoreAll({
      store,
      dependencies: scoringDependencies(store, { model: cheaperDemos }).dependencies,
      table,
      checkpointFile,
      pageSize: 5,
      onStart: (checkpoint, resumed) => {
        resumedAt = resumed ? checkpoint.done : undefined;
      },
    });
    expect(resumedAt).toBe(saved.done);
    expect(result.done).toBe(leadCount);
    expect(() => readFileSync(checkpointFile)).toThrow();

    let cursor: string | null = null;
    const scores: number[] = [];
    do {
      const page: { leadIds: string[]; cursor: string | null } = await store.scanLeadIds(cursor);
      for (const id of page.leadIds) {
        const lead = await store.getLead(id);
        expect(lead?.qualification?.configVersion).toBe(cheaperDemos.version);
        scores.push(lead?.qualification?.score.engagement ?? -1);
      }
      cursor = page.cursor;
    } while (cursor);
    expect(scores).toEqual(Array.from({ length: leadCount }, () => 10));
  });
});
