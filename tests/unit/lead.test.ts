import { applyCapture, toLeadView } from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { shippedScoring } from "../helpers/scoring.ts";

const now = "2026-11-24T10:00:00.000Z";

describe("applying a capture to a lead", () => {
  it("creates the lead from its first capture", () => {
    const first = capture({ email: "ada@example.com", firstName: "Ada", phone: "+14155550132" });
    const { lead, changedFields } = applyCapture(undefined, first, { leadId: "lead-1", now });
    expect(lead).toMatchObject({
      id: "lead-1",
      email: "ada@example.com",
      emails: ["ada@example.com"],
      phones: ["+14155550132"],
      firstName: "Ada",
      version: 1,
      createdAt: now,
    });
    expect(lead.sources).toEqual([expect.objectContaining({ source: "form", outcome: "created" })]);
    expect(changedFields).toEqual(["firstName", "email", "phone"]);
  });

  it("lets the newest capture win and records what it changed", () => {
    const lead = applyCapture(undefined, capture({ email: "a@example.com", company: "Old Co" }), {
      leadId: "l",
      now,
    }).lead;
    const newer = capture({ email: "a@example.com", company: "New Co", jobTitle: "CTO" }, { source: "meta" });
    const { lead: merged, changedFields } = applyCapture(lead, newer, { leadId: "l", now });
    expect(merged).toMatchObject({ company: "New Co", jobTitle: "CTO", version: 2 });
    expect(merged.sources.at(-1)).toMatchObject({ source: "meta", outcome: "merged" });
    expect(changedFields).toEqual(["company", "jobTitle"]);
  });

  it("lets a late, older delivery only fill empty fields", () => {
    const older = capture({ email: "a@example.com", company: "Old Co", city: "Lyon" });
    const newer = capture({ email: "a@example.com", company: "New Co" });
    const lead = applyCapture(undefined, newer, { leadId: "l", now }).lead;
    const merged = applyCapture(lead, older, { leadId: "l", now }).lead;
    expect(merged).toMatchObject({ company: "New Co", city: "Lyon" });
  });

  it("adds a new email or phone to the lead without replacing the first one", () => {
    const lead = applyCapture(undefined, capture({ email: "a@example.com" }), { leadId: "l", now }).lead;
    const merged = applyCapture(lead, capture({ email: "a@work.example", phone: "+14155550132" }), {
      leadId: "l",
      now,
    }).lead;
    expect(merged).toMatchObject({
      email: "a@example.com",
      emails: ["a@example.com", "a@work.example"],
      phone: "+14155550132",
    });
  });

  it("keeps the lead's time zone like its other profile fields: the newest delivery's wins", () => {
    const lead = applyCapture(undefined, capture({ timezone: "Europe/Paris" }), { leadId: "l", now }).lead;
    expect(lead.timezone).toBe("Europe/Paris");
    const moved = applyCapture(lead, capture({ timezone: "America/Chicago" }), { leadId: "l", now });
    expect(moved.lead.timezone).toBe("America/Chicago");
    expect(moved.changedFields).toContain("timezone");
  });

  it("merges custom fields and keeps consent with its source and time", () => {
    const first = capture({ custom: { budget: "10k" }, consent: { email: true } });
    const lead = applyCapture(undefined, first, { leadId: "l", now }).lead;
    expect(lead.custom).toEqual({ budget: "10k" });
    expect(lead.consent.email).toEqual({ granted: true, at: first.receipt.receivedAt, source: "form" });
    const revoked = applyCapture(lead, capture({ consent: { email: false } }, { source: "meta" }), {
      leadId: "l",
      now,
    }).lead;
    expect(revoked.consent.email).toMatchObject({ granted: false, source: "meta" });
  });
});

describe("the lead view", () => {
  it("orders sources by arrival, names the first and latest, and marks all-test leads", () => {
    const testOnly = capture({ email: "t@example.com" }, { source: "google-ads", test: true });
    const lead = applyCapture(undefined, testOnly, { leadId: "l", now }).lead;
    expect(toLeadView(lead, [], shippedScoring, new Date(now)).test).toBe(true);

    const real = applyCapture(lead, capture({ email: "t@example.com" }, { source: "form" }), { leadId: "l", now }).lead;
    const view = toLeadView(real, [], shippedScoring, new Date(now));
    expect(view.test).toBe(false);
    expect(view.firstSource?.source).toBe("google-ads");
    expect(view.latestSource?.source).toBe("form");
    expect(view).not.toHaveProperty("version");
  });
});
