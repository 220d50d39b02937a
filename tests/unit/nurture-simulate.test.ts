import { loadConfig } from "@leadflow/config";
import {
  type CompiledSequence,
  type Enrolment,
  type Lead,
  type SimulatedLead,
  type SimulationInput,
  simulateSequence,
} from "@leadflow/core";
import { describe, expect, it } from "vitest";

/** The shipped sequence: email, wait 3d, branch on a click, SMS, wait until Tue 10:00, demo offer. */
const shipped = loadConfig("config").sequences.byId("cold-reactivation") as CompiledSequence;
const day = 86_400_000;
/** Monday 2 March 2026, 12:00 UTC: 07:00 in New York, before the 09:00-17:00 window. */
const now = new Date("2026-03-02T12:00:00.000Z");

function coldLead(id: string, changes: Partial<Lead> = {}, coldDays = 20, stage = "marketing-qualified"): Lead {
  const since = new Date(now.getTime() - coldDays * day).toISOString();
  return {
    id,
    firstName: "Grace",
    email: `${id}@example.com`,
    emails: [`${id}@example.com`],
    phone: "+12125550101",
    phones: ["+12125550101"],
    timezone: "America/New_York",
    custom: {},
    consent: { sms: { granted: true, at: since, source: "form" } },
    sources: [],
    createdAt: since,
    updatedAt: since,
    version: 1,
    qualification: {
      temperature: "cold",
      temperatureSince: since,
      stage,
      stageSince: since,
    } as unknown as Lead["qualification"],
    ...changes,
  } as Lead;
}

const reachable = { email: "ok", sms: "ok" } as const;

function simulate(leads: SimulatedLead[], options: Partial<SimulationInput> = {}) {
  return simulateSequence({ sequence: shipped, leads, now, days: 30, accountZone: "UTC", ...options });
}

const brief = (rows: ReturnType<typeof simulate>["rows"]) =>
  rows.map(({ at, action, stepId, reason }) => [at, action, stepId ?? reason ?? ""]);

describe("simulateSequence", () => {
  it("plays the shipped sequence out for a cold lead: window, wait, no click so the SMS, then Tuesday's demo offer", () => {
    // Prepare
    const lead = coldLead("lead-ny");

    // Act
    const { rows, totals } = simulate([{ lead, reach: reachable, contactTimes: [] }]);

    // Assess
    expect(brief(rows)).toEqual([
      ["2026-03-02T12:00:00.000Z", "enrol", ""],
      ["2026-03-02T12:00:00.000Z", "defer", "step-1"],
      ["2026-03-02T14:00:00.000Z", "send", "step-1"], // 09:00 EST
      ["2026-03-05T14:00:00.000Z", "send", "step-4"], // 3 days on, no click: the SMS
      // The next Tuesday 10:00 in New York, after the switch to summer time (8 March): 14:00 UTC.
      ["2026-03-10T14:00:00.000Z", "send", "demo-offer"],
      ["2026-03-10T14:00:00.000Z", "complete", ""],
    ]);
    expect(rows[1]).toMatchObject({ reason: "window", until: "2026-03-02T14:00:00.000Z", channel: "email" });
    expect(rows[2]).toMatchObject({ leadId: "lead-ny", localTime: "Mon 2026-03-02 09:00", zone: "America/New_York" });
    expect(rows[4]).toMatchObject({ localTime: "Tue 2026-03-10 10:00" });
    expect(totals).toMatchObject({
      enrolling: 1,
      enrolled: 0,
      reached: 1,
      sent: { email: 2, sms: 1 },
      sentByStep: { "step-1": 1, "step-4": 1, "demo-offer": 1 },
      deferred: { window: 1 },
      completed: 1,
    });
  });

  it("runs each schedule at its ticks: enrolment on the hour's tick, steps on the next 5-minute tick", () => {
    const hourly = (at: Date) => new Date(Math.ceil((at.getTime() - 7 * 60_000) / 3_600_000) * 3_600_000 + 7 * 60_000);
    const fiveMinutes = (at: Date) => new Date(Math.ceil(at.getTime() / 300_000) * 300_000);

    const { rows } = simulate([{ lead: coldLead("lead-ticks"), reach: reachable, contactTimes: [] }], {
      now: new Date("2026-03-02T14:30:00.000Z"),
      enrolTick: hourly,
      stepTick: fiveMinutes,
    });

    expect(brief(rows).slice(0, 2)).toEqual([
      ["2026-03-02T15:07:00.000Z", "enrol", ""],
      ["2026-03-02T15:10:00.000Z", "send", "step-1"],
    ]);
  });

  it("counts sends toward the caps, with those already in the contact log: a message today defers to tomorrow", () => {
    const sentToday = "2026-03-02T13:00:00.000Z"; // 08:00 in New York

    const { rows, totals } = simulate([{ lead: coldLead("lead-capped"), reach: reachable, contactTimes: [sentToday] }]);

    expect(rows.find((row) => row.action === "defer")).toMatchObject({ stepId: "step-1", reason: "cap" });
    expect(rows.find((row) => row.action === "send")).toMatchObject({
      stepId: "step-1",
      at: "2026-03-03T14:00:00.000Z",
    });
    expect(totals.deferred).toEqual({ cap: 1 });
  });

  it("passes over an SMS the lead cannot get, and says why", () => {
    const { rows, totals } = simulate([
      { lead: coldLead("lead-email-only"), reach: { email: "ok", sms: "no-consent" }, contactTimes: [] },
    ]);

    expect(rows.find((row) => row.action === "skip")).toMatchObject({
      stepId: "step-4",
      channel: "sms",
      reason: "no-consent",
    });
    expect(totals.sent).toEqual({ email: 2, sms: 0 });
    expect(totals.skipped).toEqual({ "no-consent": 1 });
  });

  it("goes on from where an enrolled lead stands, in the version it started, and ends the run of an unsubscribed one", () => {
    const started: CompiledSequence = {
      ...shipped,
      digest: "older",
      window: { days: [1, 2, 3, 4, 5, 6, 7], from: 0, to: 1440 },
    };
    const enrolment = (leadId: string): Enrolment => ({
      leadId,
      sequenceId: shipped.id,
      enrolmentId: `e-${leadId}`,
      digest: "older",
      status: "active",
      stepIndex: 5,
      dueAt: "2026-02-27T10:00:00.000Z",
      enrolledAt: "2026-02-20T10:00:00.000Z",
      sent: [],
      version: 3,
    });

    const { rows, totals } = simulate([
      { lead: coldLead("lead-on"), reach: reachable, contactTimes: [], enrolment: enrolment("lead-on"), runs: started },
      {
        lead: coldLead("lead-gone"),
        reach: { email: "unsubscribed", sms: "ok" },
        contactTimes: [],
        enrolment: enrolment("lead-gone"),
      },
    ]);

    // Overdue: sent at once, any time of day being the older version's window.
    expect(brief(rows)).toEqual([
      ["2026-03-02T12:00:00.000Z", "exit", "unsubscribed"],
      ["2026-03-02T12:00:00.000Z", "send", "demo-offer"],
      ["2026-03-02T12:00:00.000Z", "complete", ""],
    ]);
    expect(rows[0]?.leadId).toBe("lead-gone");
    expect(totals).toMatchObject({ enrolled: 2, enrolling: 0, exited: { unsubscribed: 1 }, reached: 1 });
  });

  it("leaves out cold leads the entry keeps out, and counts those that qualify only after the days simulated", () => {
    const { rows, totals } = simulate(
      [
        { lead: coldLead("lead-customer", {}, 20, "customer"), reach: reachable, contactTimes: [] },
        { lead: coldLead("lead-recent", {}, 1), reach: reachable, contactTimes: [] },
        { lead: coldLead("lead-soon", {}, 10), reach: reachable, contactTimes: [] },
      ],
      { days: 7 },
    );

    expect(totals).toMatchObject({ notTaken: 1, later: 1, enrolling: 1 });
    // Cold for 10 days now: 14 days cold in 4 days, on Friday 6 March.
    expect(rows[0]).toMatchObject({ leadId: "lead-soon", action: "enrol", at: "2026-03-06T12:00:00.000Z" });
  });

  it("takes a lead whose run ended again only after the re-entry time, and changes nothing it is given", () => {
    const ended: Enrolment = {
      leadId: "lead-back",
      sequenceId: shipped.id,
      enrolmentId: "e-1",
      digest: shipped.digest,
      status: "completed",
      stepIndex: 6,
      enrolledAt: "2025-10-01T00:00:00.000Z",
      endedAt: "2025-10-20T00:00:00.000Z",
      sent: [],
      version: 5,
    };
    const recent = { ...ended, leadId: "lead-recent", endedAt: "2026-02-01T00:00:00.000Z" };
    const input: SimulatedLead[] = [
      { lead: coldLead("lead-back"), reach: reachable, contactTimes: [], enrolment: ended },
      { lead: coldLead("lead-recent"), reach: reachable, contactTimes: [], enrolment: recent },
    ];
    const copy = structuredClone(input);

    const { totals } = simulate(input);

    expect(totals).toMatchObject({ enrolling: 1, notTaken: 1 });
    expect(input).toEqual(copy);
  });

  it("stops at the end of the days simulated", () => {
    const { rows } = simulate([{ lead: coldLead("lead-short"), reach: reachable, contactTimes: [] }], { days: 1 });

    expect(rows.map((row) => row.action)).toEqual(["enrol", "defer", "send"]);
  });
});
