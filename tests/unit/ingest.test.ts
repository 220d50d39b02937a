import { type Capture, ingestCapture, type LeadRepository, leadLimits, resolveIdentity } from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { memoryRepository } from "../helpers/memory-repository.ts";
import { scoringDependencies } from "../helpers/scoring.ts";

function ingester(repository: LeadRepository) {
  let id = 0;
  const dependencies = { ...scoringDependencies(repository).dependencies, newLeadId: () => `lead-${++id}` };
  return (delivery: Capture) => ingestCapture(dependencies, delivery.receipt, () => delivery.lead);
}

describe("ingesting captures", () => {
  it("counts a platform retry once", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    const delivery = capture({ email: "ada@example.com" });
    expect(await ingest(delivery)).toEqual({ leadId: "lead-1", outcome: "created" });
    expect(await ingest(delivery)).toEqual({ leadId: "lead-1", outcome: "duplicate" });
    expect(memory.leads.get("lead-1")?.sources).toHaveLength(1);
  });

  it("does not load the lead again for a delivery already stored (no second Graph call)", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    const delivery = capture();
    await ingest(delivery);
    let loads = 0;
    const dependencies = { ...scoringDependencies(memory.repository).dependencies, newLeadId: () => "unused" };
    await ingestCapture(dependencies, delivery.receipt, () => {
      loads++;
      return delivery.lead;
    });
    expect(loads).toBe(0);
  });

  it("recognises a retry after a crash between the lead write and its history, and writes what was pending", async () => {
    const memory = memoryRepository();
    const crashing: LeadRepository = {
      ...memory.repository,
      recordHistory: async () => {
        throw new Error("crash");
      },
    };
    const delivery = capture({ email: "ada@example.com" });
    await expect(ingester(crashing)(delivery)).rejects.toThrow("crash");
    expect(memory.history).toHaveLength(0);

    const retried = await ingester(memory.repository)(delivery);
    expect(retried.outcome).toBe("duplicate");
    expect(memory.leads.get(retried.leadId)?.sources).toHaveLength(1);
    // The capture entry, and the fit score the capture gave (left pending on the lead by the first try).
    expect(memory.history.map((entry) => entry.type)).toEqual(["lead.captured", "score.changed"]);
  });

  it("applies a retried delivery to the lead it was pinned to, even if identity now resolves elsewhere", async () => {
    const memory = memoryRepository();
    await memory.repository.claim({ kind: "phone", value: "+14155550132" }, "lead-by-phone");
    let crashOnce = true;
    const firstAttempt: LeadRepository = {
      ...memory.repository,
      // Another new lead wins the email while this delivery is being resolved...
      async claim(identifier, leadId) {
        if (identifier.kind === "email") await memory.repository.claim(identifier, "lead-by-email");
        return memory.repository.claim(identifier, leadId);
      },
      // ...and the worker dies before writing the lead.
      async saveLead(lead, expectedVersion) {
        if (crashOnce) {
          crashOnce = false;
          throw new Error("crash");
        }
        return memory.repository.saveLead(lead, expectedVersion);
      },
    };
    const delivery = capture({ email: "ada@example.com", phone: "+14155550132" });
    await expect(ingester(firstAttempt)(delivery)).rejects.toThrow("crash");

    // The retry would now resolve to "lead-by-email" (email first), but follows the pin.
    expect(await ingester(memory.repository)(delivery)).toEqual({ leadId: "lead-by-phone", outcome: "created" });
    expect(await ingester(memory.repository)(delivery)).toEqual({ leadId: "lead-by-phone", outcome: "duplicate" });
    expect(memory.leads.get("lead-by-email")).toBeUndefined();
    expect([...memory.leads.values()].flatMap((lead) => lead.sources)).toHaveLength(1);
  });

  it("merges the same email from different sources into one lead", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    await ingest(capture({ email: "ada@example.com" }, { source: "form" }));
    const second = await ingest(capture({ email: "ada@example.com", phone: "+14155550132" }, { source: "meta" }));
    const third = await ingest(
      capture({ email: "other@example.com", phone: "+14155550132" }, { source: "google-ads" }),
    );
    expect(second).toEqual({ leadId: "lead-1", outcome: "merged" });
    expect(third).toEqual({ leadId: "lead-1", outcome: "merged" });
    expect(memory.leads.size).toBe(1);
    expect(memory.leads.get("lead-1")?.emails).toEqual(["ada@example.com", "other@example.com"]);
  });

  it("retries the save when another writer changed the lead in between", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    await ingest(capture({ email: "ada@example.com" }));
    let interfere = true;
    const racing: LeadRepository = {
      ...memory.repository,
      async saveLead(lead, expected) {
        if (interfere) {
          interfere = false;
          const current = memory.leads.get(lead.id);
          if (current)
            memory.leads.set(lead.id, { ...current, company: "Someone else's write", version: current.version + 1 });
        }
        return memory.repository.saveLead(lead, expected);
      },
    };
    const result = await ingester(racing)(capture({ email: "ada@example.com", jobTitle: "CTO" }));
    expect(result.outcome).toBe("merged");
    expect(memory.leads.get("lead-1")).toMatchObject({ jobTitle: "CTO", company: "Someone else's write", version: 3 });
  });
});

describe("identity resolution", () => {
  it("mints a new id and claims every identifier for a person never seen", async () => {
    const memory = memoryRepository();
    const identifiers = [
      { kind: "email" as const, value: "new@example.com" },
      { kind: "phone" as const, value: "+14155550100" },
    ];
    expect(await resolveIdentity(memory.repository, identifiers, () => "fresh")).toEqual({
      leadId: "fresh",
      isNew: true,
      conflicts: [],
    });
    expect([...memory.claims.values()]).toEqual(["fresh", "fresh"]);
  });

  it("joins the lead a concurrent worker created for the same new email", async () => {
    const memory = memoryRepository();
    // The other worker claims the email between our lookup and our claim.
    const racing = {
      ...memory.repository,
      async findOwners() {
        await memory.repository.claim({ kind: "email", value: "ada@example.com" }, "winner");
        return new Map<string, string>();
      },
    };
    const identity = await resolveIdentity(racing, [{ kind: "email", value: "ada@example.com" }], () => "loser");
    expect(identity).toEqual({ leadId: "winner", isNew: false, conflicts: [] });
  });

  it("keeps its new lead and reports the conflict when another new lead claimed a later identifier first", async () => {
    const memory = memoryRepository();
    const racing = {
      ...memory.repository,
      async findOwners() {
        await memory.repository.claim({ kind: "phone", value: "+14155550132" }, "phone-only-lead");
        return new Map<string, string>();
      },
    };
    const identifiers = [
      { kind: "email" as const, value: "ada@example.com" },
      { kind: "phone" as const, value: "+14155550132" },
    ];
    const identity = await resolveIdentity(racing, identifiers, () => "minted");
    expect(identity).toEqual({
      leadId: "minted",
      isNew: true,
      conflicts: [{ kind: "phone", value: "+14155550132", ownerLeadId: "phone-only-lead" }],
    });
    expect(memory.claims.get("phone:+14155550132")).toBe("phone-only-lead");
  });

  it("ends three racing deliveries (email+phone, phone, email), in any order, with each identifier on one lead", async () => {
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      const memory = memoryRepository();
      const ingest = ingester(memory.repository);
      const deliveries = [
        capture({ email: "e@example.com", phone: "+14155550132" }, { source: "meta" }),
        capture({ email: undefined, phone: "+14155550132" }, { source: "google-ads" }),
        capture({ email: "e@example.com" }, { source: "form" }),
      ];
      await Promise.all(order.map((index) => ingest(deliveries[index] as Capture)));
      const leads = [...memory.leads.values()];
      expect(leads.filter((lead) => lead.emails.includes("e@example.com")).map((lead) => lead.id)).toEqual([
        memory.claims.get("email:e@example.com"),
      ]);
      expect(leads.filter((lead) => lead.phones.includes("+14155550132")).map((lead) => lead.id)).toEqual([
        memory.claims.get("phone:+14155550132"),
      ]);
      expect(leads.flatMap((lead) => lead.sources)).toHaveLength(3);
    }
  });

  it("reports an identifier owned by another existing lead and leaves it there", async () => {
    const memory = memoryRepository();
    await memory.repository.claim({ kind: "email", value: "ada@example.com" }, "lead-a");
    await memory.repository.claim({ kind: "phone", value: "+14155550132" }, "lead-b");
    const identity = await resolveIdentity(
      memory.repository,
      [
        { kind: "email", value: "ada@example.com" },
        { kind: "phone", value: "+14155550132" },
      ],
      () => "new",
    );
    expect(identity).toEqual({
      leadId: "lead-a",
      isNew: false,
      conflicts: [{ kind: "phone", value: "+14155550132", ownerLeadId: "lead-b" }],
    });
  });
});

describe("one lead item, whatever is posted in a person's name", () => {
  it("keeps the first delivery and the newest ones, counts them all, and still knows a retry of an old one", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    const first = capture({ email: "ada@example.com" });
    await ingest(first);
    for (let index = 0; index < 30; index++) await ingest(capture({ email: "ada@example.com" }));
    const lead = memory.leads.get("lead-1");
    expect(lead?.sources).toHaveLength(leadLimits.sourcesKept);
    expect(lead?.sources[0]?.platformLeadId).toBe(first.receipt.platformLeadId);
    expect(lead?.sourceCount).toBe(31);

    const second = memory.history.find((entry) => entry.type === "lead.captured" && entry.summary.startsWith("Merged"));
    const retried = await ingest(
      capture(
        { email: "ada@example.com" },
        second ? { platformLeadId: String(second.details.platformLeadId), receivedAt: second.at } : {},
      ),
    );
    expect(retried.outcome).toBe("duplicate");
    expect(memory.leads.get("lead-1")?.sourceCount).toBe(31);
  });

  it("keeps the newest custom values within the budget, and says how many older ones it dropped", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    const fields = (prefix: string) =>
      Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`${prefix}${index}`, "é".repeat(180)]));
    await ingest(capture({ email: "ada@example.com", custom: fields("old") }));
    await ingest(capture({ email: "ada@example.com", custom: fields("new") }));
    const custom = memory.leads.get("lead-1")?.custom ?? {};
    expect(Buffer.byteLength(JSON.stringify(custom))).toBeLessThanOrEqual(leadLimits.customBytes);
    expect(custom.new299).toBeDefined();
    expect(custom.old0).toBeUndefined();
    const [latest] = memory.history.filter((entry) => entry.type === "lead.captured").slice(-1);
    expect(latest?.details).toMatchObject({ droppedCustomFields: expect.any(Number), changedFieldCount: 300 });
    expect(latest?.details.changedFields).toHaveLength(leadLimits.changedFieldsListed);
  });

  it("lists at most a few emails per person; further ones still find the lead", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    await ingest(capture({ email: "ada@example.com", phone: "+14155550132" }));
    for (let index = 0; index < 15; index++)
      await ingest(capture({ email: `ada${index}@example.com`, phone: "+14155550132" }));
    expect(memory.leads.get("lead-1")?.emails).toHaveLength(leadLimits.identifiersPerKind);
    expect(memory.claims.get("email:ada14@example.com")).toBe("lead-1");
  });

  it("clears what a write left pending once it is carried out, signals or not", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    await ingest(capture({ email: "ada@example.com" }));
    expect(memory.leads.get("lead-1")?.pending).toBeUndefined();
    expect(memory.history.map((entry) => entry.type)).toContain("lead.captured");
  });

  it("answers a retry from the delivery's pin once applied, without reading the lead", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    const delivery = capture({ email: "ada@example.com" });
    await ingest(delivery);
    const reads: string[] = [];
    const counting: LeadRepository = {
      ...memory.repository,
      getLead: (id) => {
        reads.push(id);
        return memory.repository.getLead(id);
      },
    };
    expect(await ingester(counting)(delivery)).toEqual({ leadId: "lead-1", outcome: "duplicate" });
    expect(reads).toEqual([]);
  });

  it("tells a repeated delivery whose content changed, and keeps the first", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    const first = capture({ email: "ada@example.com", company: "First" }, { contentHash: "aaa" });
    await ingest(first);
    const changed = { receipt: { ...first.receipt, contentHash: "bbb" }, lead: { ...first.lead, company: "Second" } };
    expect(await ingest(changed)).toEqual({ leadId: "lead-1", outcome: "duplicate", contentChanged: true });
    expect(await ingest(first)).toEqual({ leadId: "lead-1", outcome: "duplicate", contentChanged: false });
    expect(memory.leads.get("lead-1")?.company).toBe("First");
  });

  it("counts once a delivery replayed to another source that shares its sender's ids", async () => {
    const memory = memoryRepository();
    const ingest = ingester(memory.repository);
    const scope = "secret:FORM_SIGNING_SECRET";
    const original = capture({ email: "ada@example.com" }, { source: "form", scope });
    await ingest(original);
    const replayed = { ...original, receipt: { ...original.receipt, source: "contact" } };
    expect((await ingest(replayed)).outcome).toBe("duplicate");
    expect(memory.leads.get("lead-1")?.sourceCount).toBe(1);
  });
});
