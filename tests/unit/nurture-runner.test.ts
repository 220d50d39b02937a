import {
  type CompiledSequence,
  checkBeforeSending,
  compileSequences,
  type Enrolment,
  enrolColdLeads,
  type Lead,
  maxStepAttempts,
  mayEnrol,
  type NurtureDependencies,
  type OutgoingMessage,
  parseYamlConfig,
  planStep,
  runDueStep,
  SendLaterError,
  SequenceSchema,
  type StepFacts,
  type StoredEvent,
  templateLibrary,
} from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { memoryNurtureStore } from "../helpers/memory-nurture.ts";

const templates = templateLibrary([{ name: "hello.liquid", text: "Hi {{ lead.firstName }}. {{ unsubscribe_url }}" }]);

function sequence(yaml: string): CompiledSequence {
  const file = "config/sequences/test.yaml";
  const config = parseYamlConfig(yaml, file, SequenceSchema);
  return compileSequences([{ file, text: yaml, config }], templates).all[0] as CompiledSequence;
}

const reactivation = sequence(`id: reactivation
entry: { temperature: cold, coldForDays: 14 }
reentry: { after: 90d }
window: { days: mon-fri, from: "09:00", to: "17:00" }
caps: { perDay: 1, perWeek: 3 }
from: { email: "Acme <hello@acme.example>", sms: "+14155550000" }
steps:
  - email: { subject: "One", template: hello.liquid }
  - wait: 3d
  - branch: { if: { clicked: previous }, then: offer, else: next }
  - sms: { text: "Hi {{ lead.firstName }}. STOP to opt out" }
  - wait: { until: "tue 10:00" }
  - id: offer
    email: { subject: "Offer", template: hello.liquid }
`);

/** Wednesday 2026-12-02, 15:00 UTC = 10:00 in New York. */
const wednesdayMorning = new Date("2026-12-02T15:00:00Z");

function lead(overrides: Partial<Lead> = {}, qualification: Record<string, unknown> = {}): Lead {
  return {
    id: "lead-1",
    email: "ada@example.com",
    phone: "+12125550100",
    emails: ["ada@example.com"],
    phones: ["+12125550100"],
    firstName: "Ada",
    timezone: "America/New_York",
    custom: {},
    consent: { sms: { granted: true, at: "2026-10-01T00:00:00Z", source: "form" } },
    sources: [],
    createdAt: "2026-10-01T00:00:00Z",
    updatedAt: "2026-10-01T00:00:00Z",
    version: 1,
    qualification: {
      temperature: "cold",
      temperatureSince: "2026-10-01T00:00:00Z",
      stage: "information-qualified",
      score: { fit: 0, engagement: 0, total: 0 },
      ...qualification,
    } as unknown as Lead["qualification"],
    ...overrides,
  };
}

function enrolment(overrides: Partial<Enrolment> = {}): Enrolment {
  return {
    leadId: "lead-1",
    sequenceId: reactivation.id,
    enrolmentId: "e1",
    digest: reactivation.digest,
    status: "active",
    stepIndex: 0,
    dueAt: wednesdayMorning.toISOString(),
    enrolledAt: "2026-11-30T00:00:00Z",
    sent: [],
    version: 1,
    ...overrides,
  };
}

function facts(overrides: Partial<StepFacts> = {}): StepFacts {
  return {
    lead: lead(),
    reach: { email: "ok", sms: "ok" },
    zones: ["America/New_York"],
    contactTimes: [],
    engagement: { opened: new Set(), clicked: new Set(), repliedSince: () => false },
    now: wednesdayMorning,
    ...overrides,
  };
}

describe("planStep", () => {
  it("sends the step when the window holds and the caps allow", () => {
    expect(planStep(reactivation, enrolment(), facts())).toMatchObject({ kind: "send", stepIndex: 0 });
  });

  it("defers a send to the window's next opening in the lead's zone, never drops it", () => {
    const night = new Date("2026-12-03T03:00:00Z"); // 22:00 in New York
    const plan = planStep(reactivation, enrolment(), facts({ now: night }));
    expect(plan).toEqual({ kind: "wait", stepIndex: 0, dueAt: new Date("2026-12-03T14:00:00Z"), because: "window" });
  });

  it("defers a send over the day's cap to the next local day", () => {
    const plan = planStep(reactivation, enrolment(), facts({ contactTimes: ["2026-12-02T14:30:00Z"] }));
    expect(plan).toEqual({ kind: "wait", stepIndex: 0, dueAt: new Date("2026-12-03T14:00:00Z"), because: "cap" });
  });

  it("turns a wait into the next step's due time", () => {
    const plan = planStep(reactivation, enrolment({ stepIndex: 1 }), facts());
    expect(plan).toEqual({
      kind: "wait",
      stepIndex: 2,
      dueAt: new Date(wednesdayMorning.getTime() + 3 * 86_400_000),
      because: "wait",
    });
  });

  it("waits until the next such weekday and time in the lead's zone", () => {
    const plan = planStep(reactivation, enrolment({ stepIndex: 4 }), facts());
    // Tuesday 2026-12-08 10:00 in New York.
    expect(plan).toMatchObject({ kind: "wait", stepIndex: 5, dueAt: new Date("2026-12-08T15:00:00Z") });
  });

  it("branches on a click on the email the enrolment sent last", () => {
    const sent = [{ stepId: "step-1", messageId: "m1", channel: "email" as const, at: "2026-11-30T15:00:00Z" }];
    const clicked = facts({ engagement: { opened: new Set(), clicked: new Set(["m1"]), repliedSince: () => false } });
    expect(planStep(reactivation, enrolment({ stepIndex: 2, sent }), clicked)).toMatchObject({
      kind: "send",
      step: { id: "offer" },
    });
    expect(planStep(reactivation, enrolment({ stepIndex: 2, sent }), facts())).toMatchObject({
      kind: "send",
      step: { kind: "sms" },
    });
  });

  it("passes over an SMS the lead has no consent for, or stopped", () => {
    for (const sms of ["no-consent", "stopped", "none"] as const) {
      expect(planStep(reactivation, enrolment({ stepIndex: 3 }), facts({ reach: { email: "ok", sms } }))).toMatchObject(
        {
          kind: "skip",
          because: sms,
        },
      );
    }
  });

  it("holds an SMS to 08:00–21:00 and the window in the recipient's zone", () => {
    const evening = new Date("2026-12-02T23:30:00Z"); // 18:30 in New York: past the window
    expect(planStep(reactivation, enrolment({ stepIndex: 3 }), facts({ now: evening }))).toMatchObject({
      kind: "wait",
      because: "window",
    });
  });

  it("exits on a reply since enrolment, turning hot, becoming a customer, unsubscribing or bouncing", () => {
    const replied = facts({ engagement: { opened: new Set(), clicked: new Set(), repliedSince: () => true } });
    expect(planStep(reactivation, enrolment(), replied)).toEqual({ kind: "exit", reason: "replied" });
    expect(planStep(reactivation, enrolment(), facts({ lead: lead({}, { temperature: "hot" }) }))).toEqual({
      kind: "exit",
      reason: "hot",
    });
    expect(planStep(reactivation, enrolment(), facts({ lead: lead({}, { stage: "customer" }) }))).toEqual({
      kind: "exit",
      reason: "converted",
    });
    expect(planStep(reactivation, enrolment(), facts({ reach: { email: "unsubscribed", sms: "ok" } }))).toEqual({
      kind: "exit",
      reason: "unsubscribed",
    });
    expect(planStep(reactivation, enrolment(), facts({ reach: { email: "bounced", sms: "ok" } }))).toEqual({
      kind: "exit",
      reason: "bounced",
    });
  });

  it("completes after the last step", () => {
    expect(planStep(reactivation, enrolment({ stepIndex: 6 }), facts())).toEqual({ kind: "complete" });
  });
});

describe("mayEnrol", () => {
  const now = new Date("2026-12-02T15:00:00Z");

  it("takes a lead cold for long enough, and not one cold for less", () => {
    expect(mayEnrol(reactivation, lead(), undefined, now)).toBe(true);
    expect(mayEnrol(reactivation, lead({}, { temperatureSince: "2026-11-25T00:00:00Z" }), undefined, now)).toBe(false);
    expect(mayEnrol(reactivation, lead({}, { temperature: "warm" }), undefined, now)).toBe(false);
    expect(mayEnrol(reactivation, lead({}, { stage: "customer" }), undefined, now)).toBe(false);
  });

  it("enrols again only after the re-entry time, never while enrolled", () => {
    expect(mayEnrol(reactivation, lead(), { status: "active" }, now)).toBe(false);
    expect(mayEnrol(reactivation, lead(), { status: "completed", endedAt: "2026-11-01T00:00:00Z" }, now)).toBe(false);
    expect(mayEnrol(reactivation, lead(), { status: "exited", endedAt: "2026-08-01T00:00:00Z" }, now)).toBe(true);
  });
});

function dependencies(options: { leads?: Lead[]; now?: Date; events?: StoredEvent[] } = {}) {
  const memory = memoryNurtureStore();
  const sent: OutgoingMessage[] = [];
  const leads = new Map((options.leads ?? [lead()]).map((item) => [item.id, item]));
  let now = options.now ?? wednesdayMorning;
  const deps: NurtureDependencies = {
    leads: {
      getLead: async (id) => leads.get(id),
      listEvents: async () => options.events ?? [],
      async *coldLeads(after, upTo) {
        const ids = [...leads.values()]
          .filter((item) => item.qualification?.temperature === "cold")
          .filter(({ qualification }) => {
            const since = qualification?.temperatureSince as string;
            return (after === undefined || since > after) && since <= upTo;
          })
          .map((item) => item.id);
        if (ids.length > 0) yield ids;
      },
    },
    store: memory.store,
    sequences: { all: [reactivation], byId: (id) => (id === reactivation.id ? reactivation : undefined) },
    send: async (messages) => {
      sent.push(...messages);
    },
    unsubscribeLink: async (leadId, email) => {
      const token = await memory.store.createUnsubscribeToken(leadId, email, now.toISOString());
      return { token, url: `https://leads.example/unsubscribe/${token}` };
    },
    ownerOf: () => undefined,
    accountZone: "UTC",
    now: () => now,
  };
  return { deps, memory, sent, setNow: (at: Date) => (now = at) };
}

describe("enrolColdLeads and runDueStep", () => {
  it("enrols a cold lead once, sends its first email once, and schedules the next step", async () => {
    const { deps, memory, sent } = dependencies();
    expect(await enrolColdLeads(deps)).toEqual({ enrolled: 1, considered: 1, failed: [] });
    // The cursor moved: the next tick reads nobody again.
    expect(await enrolColdLeads(deps)).toEqual({ enrolled: 0, considered: 0, failed: [] });
    const [due] = (await memory.store.dueSteps(wednesdayMorning.toISOString()).next()).value ?? [];
    expect(await runDueStep(deps, due)).toMatchObject({ outcome: "waiting", sent: 1, reason: "wait" });
    expect(await runDueStep(deps, due)).toEqual({ outcome: "stale" });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      channel: "email",
      subject: "One",
      headers: {
        "List-Unsubscribe":
          "<https://leads.example/unsubscribe/token-1>, <mailto:hello@acme.example?subject=unsubscribe%20token-1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    });
    expect((await memory.store.getEnrolment("lead-1", reactivation.id))?.stepIndex).toBe(2);
  });

  it("enrols a lead that stays cold again after the re-entry time, on the newest version", async () => {
    const { deps, memory, sent, setNow } = dependencies();
    await enrolColdLeads(deps);
    const ended = { ...(await memory.store.getEnrolment("lead-1", reactivation.id)), stepIndex: 6 } as Enrolment;
    await memory.store.saveEnrolment({ ...ended, version: ended.version + 1 }, ended.version);
    const [due] = (await memory.store.dueSteps(wednesdayMorning.toISOString()).next()).value ?? [];
    expect(await runDueStep(deps, due)).toMatchObject({ outcome: "completed" });
    const completed = (await memory.store.getEnrolment("lead-1", reactivation.id)) as Enrolment;
    expect(completed.dueAt).toBe(new Date(wednesdayMorning.getTime() + 90 * 86_400_000).toISOString());
    setNow(new Date(completed.dueAt as string));
    const [reentry] = (await memory.store.dueSteps(completed.dueAt as string).next()).value ?? [];
    expect(await runDueStep(deps, reentry)).toEqual({ outcome: "reentered" });
    const again = await memory.store.getEnrolment("lead-1", reactivation.id);
    expect(again).toMatchObject({ status: "active", stepIndex: 0, dueAt: completed.dueAt });
    expect(again?.enrolmentId).not.toBe(completed.enrolmentId);
    expect(sent).toEqual([]);
  });

  it("never re-enrols after an unsubscribe", async () => {
    const { deps, memory } = dependencies();
    await enrolColdLeads(deps);
    await memory.store.suppress({
      channel: "email",
      address: "ada@example.com",
      reason: "unsubscribe",
      at: "2026-12-01T00:00:00Z",
    });
    const [due] = (await memory.store.dueSteps(wednesdayMorning.toISOString()).next()).value ?? [];
    expect(await runDueStep(deps, due)).toMatchObject({ outcome: "exited" });
    expect((await memory.store.getEnrolment("lead-1", reactivation.id))?.dueAt).toBeUndefined();
  });

  it("enrols the other leads when one cannot be read, and names it", async () => {
    const { deps, memory } = dependencies({ leads: [lead(), lead({ id: "lead-2" })] });
    const getLead = deps.leads.getLead;
    deps.leads.getLead = async (id) => {
      if (id === "lead-2") throw new TypeError("unreadable");
      return getLead(id);
    };
    expect(await enrolColdLeads(deps)).toEqual({
      enrolled: 1,
      considered: 2,
      failed: [{ leadId: "lead-2", sequenceId: reactivation.id, error: "TypeError" }],
    });
    expect(await memory.store.getEnrolment("lead-1", reactivation.id)).toMatchObject({ status: "active" });
  });

  it("after a crash between counting and saving, sends the step again under the same id, not held back by its own count", async () => {
    const { deps, memory, sent } = dependencies();
    await enrolColdLeads(deps);
    const enrolled = (await memory.store.getEnrolment("lead-1", reactivation.id)) as Enrolment;
    // The crashed run counted its message and queued it; the enrolment was never saved.
    await memory.store.recordContact(
      "lead-1",
      { messageId: `nurture-${enrolled.enrolmentId}-0`, at: wednesdayMorning.toISOString() },
      { contacts: [], version: 0 },
    );
    const due = { ...enrolled, dueAt: enrolled.dueAt as string };
    expect(await runDueStep(deps, due)).toMatchObject({ outcome: "waiting", sent: 1 });
    expect(sent.map((message) => message.id)).toEqual([`nurture-${enrolled.enrolmentId}-0`]);
    expect(memory.logs.get("lead-1")?.contacts).toHaveLength(1);
  });

  it("lets only one of two sequences take a lead's last slot of the day; the other waits for the next day", async () => {
    const { deps, memory, sent } = dependencies();
    const other = { ...reactivation, id: "other" };
    deps.sequences = { all: [reactivation, other], byId: (id) => [reactivation, other].find((item) => item.id === id) };
    await enrolColdLeads(deps);
    const due = [];
    for await (const page of memory.store.dueSteps(wednesdayMorning.toISOString())) due.push(...page);
    const outcomes = await Promise.all(due.map((step) => runDueStep(deps, step)));
    expect(sent).toHaveLength(1);
    expect(outcomes.map((outcome) => ("reason" in outcome ? outcome.reason : undefined)).sort()).toEqual([
      "cap",
      "wait",
    ]);
  });

  it("exits at once when the lead is suppressed, sending nothing", async () => {
    const { deps, memory, sent } = dependencies();
    await enrolColdLeads(deps);
    await memory.store.suppress({
      channel: "email",
      address: "ada@example.com",
      reason: "unsubscribe",
      at: "2026-12-01T00:00:00Z",
    });
    const [due] = (await memory.store.dueSteps(wednesdayMorning.toISOString()).next()).value ?? [];
    expect(await runDueStep(deps, due)).toMatchObject({ outcome: "exited", reason: "unsubscribed" });
    expect(sent).toEqual([]);
  });

  it("runs a step delivered twice at the same moment once: the first run claims it", async () => {
    const { deps, memory, sent } = dependencies();
    await enrolColdLeads(deps);
    const [due] = (await memory.store.dueSteps(wednesdayMorning.toISOString()).next()).value ?? [];
    const outcomes = await Promise.all([runDueStep(deps, due), runDueStep(deps, due)]);
    expect(sent).toHaveLength(1);
    expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(["raced", "waiting"]);
  });

  it("makes a step whose run died due again when its lease ends, and fails the enrolment after 10 such runs", async () => {
    const { deps, memory, setNow } = dependencies();
    await enrolColdLeads(deps);
    deps.send = async () => {
      throw new Error("queue unavailable");
    };
    let now = wednesdayMorning;
    for (let run = 1; run <= maxStepAttempts; run++) {
      const [due] = (await memory.store.dueSteps(now.toISOString()).next()).value ?? [];
      await expect(runDueStep(deps, due)).rejects.toThrow("queue unavailable");
      const leased = await memory.store.getEnrolment("lead-1", reactivation.id);
      expect(leased).toMatchObject({ status: "active", attempts: run, stepIndex: 0 });
      now = new Date(Date.parse(leased?.dueAt as string));
      setNow(now);
    }
    const [last] = (await memory.store.dueSteps(now.toISOString()).next()).value ?? [];
    expect(await runDueStep(deps, last)).toMatchObject({ outcome: "failed" });
    expect(await memory.store.getEnrolment("lead-1", reactivation.id)).toMatchObject({ status: "failed" });
  });
});

describe("checkBeforeSending", () => {
  const nurtureEmail = {
    id: "nurture-e1-0",
    purpose: "nurture-reactivation",
    channel: "email" as const,
    to: "Ada@Example.com",
    from: "Acme <hello@acme.example>",
    subject: "One",
    text: "Hi",
    marketing: { zones: ["America/New_York"], windows: [{ days: [1, 2, 3, 4, 5], from: 540, to: 1020 }] },
  };

  it("drops a marketing message whose address was suppressed after it was planned", async () => {
    const { store } = memoryNurtureStore();
    await store.suppress({
      channel: "email",
      address: "ada@example.com",
      reason: "unsubscribe",
      at: "2026-12-02T14:00:00Z",
    });
    expect(await checkBeforeSending(nurtureEmail, { suppression: store.suppression, now: wednesdayMorning })).toBe(
      "drop",
    );
  });

  it("puts a marketing message back until its window opens, and lets other messages through", async () => {
    const { store } = memoryNurtureStore();
    const night = new Date("2026-12-03T03:00:00Z"); // 22:00 in New York; the window opens at 09:00, in 11 hours
    const later = checkBeforeSending(nurtureEmail, { suppression: store.suppression, now: night });
    await expect(later).rejects.toBeInstanceOf(SendLaterError);
    await expect(later).rejects.toMatchObject({ retryAfterSeconds: 11 * 3600 });
    const { marketing: _marketing, ...alert } = nurtureEmail;
    expect(await checkBeforeSending(alert, { suppression: store.suppression, now: night })).toBe("send");
    expect(await checkBeforeSending(nurtureEmail, { suppression: store.suppression, now: wednesdayMorning })).toBe(
      "send",
    );
  });
});
