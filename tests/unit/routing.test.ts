import { readFileSync } from "node:fs";
import {
  type AlertGoneError,
  alertNext,
  answerAlert,
  applyCapture,
  awaitAnswer,
  ConfigError,
  claimEscalation,
  type Escalation,
  expire,
  type Lead,
  nextRecipient,
  parseRouting,
  percentile,
  type RoutingModel,
  type RoutingStores,
  remind,
  resumeStep,
  speedToLeadReport,
  type Team,
  unavailability,
  weightedSlots,
  withinHours,
} from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { memoryPublisher, memoryRepository } from "../helpers/memory-repository.ts";
import { memoryRoutingStore, recordingOutbox } from "../helpers/memory-routing.ts";
import { shippedScoring } from "../helpers/scoring.ts";

const from = `from: { email: "alerts@example.com", sms: "+14155550000" }`;

function routing(
  teams: string,
  sla = "{ accept: 5m, remind: 50%, tiers: 2 }",
  rules = "rules:\n  - team: sales",
): RoutingModel {
  return parseRouting(`${from}\nsla: ${sla}\nteams:\n${teams}\n${rules}\n`);
}

const manager = `manager: { id: maria, name: Maria Diaz, email: maria@example.com, phone: "+14155550199" }`;

function salesTeam(reps: string, extra = ""): string {
  return `  sales:\n    ${manager}\n${extra}    reps:\n${reps}`;
}

const always = (id: string, weight = 1, more = "") =>
  `      - { id: ${id}, name: ${id}, email: ${id}@example.com, phone: "+1415555010${id.length}", weight: ${weight}${more} }\n`;

const team = (model: RoutingModel): Team => model.teams.get("sales") as Team;
const at = (iso: string) => new Date(iso);

describe("routing config", () => {
  it("ships a valid config/routing.yaml", () => {
    expect(parseRouting(readFileSync("config/routing.yaml", "utf8")).teams.get("sales")?.reps).toHaveLength(2);
  });

  it("refuses an escalation that cannot reach the manager within 60 minutes", () => {
    expect(() => routing(salesTeam(always("ana")), "{ accept: 31m, tiers: 2 }")).toThrow(
      /manager would be alerted after 62 minutes/,
    );
    expect(() => routing(salesTeam(always("ana")), "{ accept: 20m, tiers: 3 }")).not.toThrow();
  });

  it("refuses unknown teams, zones, hours, on-call reps and repeated ids, each at its line", () => {
    const mistakes = (text: string) => {
      try {
        parseRouting(text);
      } catch (error) {
        if (error instanceof ConfigError) return error.issues.map(({ path, line }) => `${line} ${path}`);
        throw error;
      }
      return [];
    };
    const teamWith = (rep: string, afterHours = "") => `${from}
sla: { accept: 5m, tiers: 2 }
teams:
  sales:
    ${manager}
${afterHours}    reps:
      ${rep}
      - { id: ana, name: Ana 2, email: ana2@example.com }
rules:
  - team: marketing
`;
    expect(
      mistakes(
        teamWith('- { id: ben, name: Ben, email: b@example.com, timezone: Mars/Olympus, hours: { mon-fri: "9-5" } }'),
      ),
    ).toEqual(["7 teams.sales.reps.0.timezone", "7 teams.sales.reps.0.hours.mon-fri"]);
    expect(
      mistakes(
        teamWith("- { id: ana, name: Ana, email: a@example.com }", "    afterHours: { mode: on-call, rep: zoe }\n"),
      ),
    ).toEqual(["11 rules.0.team", "9 teams.sales.reps.1.id", "6 teams.sales.afterHours.rep"]);
  });
});

describe("weighted round-robin", () => {
  it("interleaves by weight: 2 and 1 give A, B, A", () => {
    expect(
      weightedSlots([
        { id: "a", weight: 2 },
        { id: "b", weight: 1 },
      ]),
    ).toEqual(["a", "b", "a"]);
  });

  it("shares 1,000 routings within 5% of the weights", async () => {
    const model = routing(salesTeam(always("ana", 5) + always("ben", 3) + always("cy", 2)));
    const { store } = memoryRoutingStore();
    const counts = await routeOneByOne(store, model, 1_000);
    for (const [rep, weight] of [
      ["ana", 5],
      ["ben", 3],
      ["cy", 2],
    ] as const) {
      expect(Math.abs((counts.get(rep) ?? 0) / 1_000 - weight / 10)).toBeLessThanOrEqual(0.05);
    }
  });

  it("never gives two leads racing for the team the same slot", async () => {
    const model = routing(salesTeam(always("ana") + always("ben") + always("cy") + always("dan")));
    const { store } = memoryRoutingStore();
    const picks = await Promise.all(
      Array.from({ length: 4 }, () => nextRecipient(store, team(model), [], at("2026-11-24T15:00:00Z"))),
    );
    expect(new Set(picks.map((pick) => (pick.kind === "rep" ? pick.rep.id : pick.kind))).size).toBe(4);
  });

  it("routes a burst of 100 simultaneous leads with one slot each, by the weights exactly", async () => {
    const model = routing(salesTeam(always("ana", 2) + always("ben", 1) + always("cy", 1)));
    const { store } = memoryRoutingStore();
    let taken = 0;
    const take = (name: string) => {
      taken++;
      return store.cursors.take(name);
    };
    const counting = { ...store, cursors: { take } };
    const picks = await Promise.all(
      Array.from({ length: 100 }, () => nextRecipient(counting, team(model), [], at("2026-11-24T15:00:00Z"))),
    );
    expect(taken).toBe(100);
    const counts = new Map<string, number>();
    for (const pick of picks) if (pick.kind === "rep") counts.set(pick.rep.id, (counts.get(pick.rep.id) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ ana: 50, ben: 25, cy: 25 });
  });

  it("shares by the weights among the reps left when one is away, with one slot taken per lead", async () => {
    const model = routing(
      salesTeam(always("ana", 2) + always("ben", 1) + always("cy", 100, ", outOfOfficeUntil: 2026-12-01")),
    );
    const { store } = memoryRoutingStore();
    let taken = 0;
    const take = (name: string) => {
      taken++;
      return store.cursors.take(name);
    };
    const counts = await routeOneByOne({ ...store, cursors: { take } }, model, 300);
    expect(Object.fromEntries(counts)).toEqual({ ana: 200, ben: 100 });
    expect(taken).toBe(300);
  });

  it("shares a later tier among the reps not tried yet, by their weights", async () => {
    const model = routing(salesTeam(always("ana", 2) + always("ben", 3) + always("dan", 1)));
    const { store } = memoryRoutingStore();
    const counts = new Map<string, number>();
    for (let lead = 0; lead < 400; lead++) {
      const recipient = await nextRecipient(store, team(model), ["ana"], at("2026-11-24T15:00:00Z"));
      if (recipient.kind !== "rep") throw new Error("expected a rep");
      expect(recipient.tier).toBe(2);
      counts.set(recipient.rep.id, (counts.get(recipient.rep.id) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ ben: 300, dan: 100 });
  });
});

/** Routes `leads` leads one after another at a working hour; how many each rep got. */
async function routeOneByOne(store: RoutingStores, model: RoutingModel, leads: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let lead = 0; lead < leads; lead++) {
    const recipient = await nextRecipient(store, team(model), [], at("2026-11-24T15:00:00Z"));
    if (recipient.kind !== "rep") throw new Error("expected a rep");
    counts.set(recipient.rep.id, (counts.get(recipient.rep.id) ?? 0) + 1);
  }
  return counts;
}

describe("who is available", () => {
  const model = routing(
    salesTeam(
      always("ny", 1, ', timezone: America/New_York, hours: { mon-fri: "09:00-17:00" }') +
        always("ldn", 1, ', timezone: Europe/London, hours: { mon-fri: "09:00-17:00" }') +
        always("off", 1, ", active: false") +
        always("away", 1, ", outOfOfficeUntil: 2026-11-25") +
        always("capped", 1, ", dailyCap: 1"),
    ),
  );
  const rep = (id: string) => team(model).reps.find((candidate) => candidate.id === id) as Team["reps"][number];

  it("reads each rep's hours in the rep's own zone, DST included", () => {
    // 14:30 UTC on a Tuesday in November: 09:30 in New York (EST), 14:30 in London (GMT).
    expect(unavailability(rep("ny"), at("2026-11-24T14:30:00Z"))).toBeUndefined();
    expect(unavailability(rep("ldn"), at("2026-11-24T14:30:00Z"))).toBeUndefined();
    // 13:30 UTC in July: 09:30 in New York (EDT); in November it is 08:30 there.
    expect(unavailability(rep("ny"), at("2026-07-14T13:30:00Z"))).toBeUndefined();
    expect(unavailability(rep("ny"), at("2026-11-24T13:30:00Z"))).toBe("outside-hours");
    // Saturday.
    expect(unavailability(rep("ldn"), at("2026-11-28T12:00:00Z"))).toBe("outside-hours");
  });

  it("skips the inactive and the out of office, who is back on the date given", () => {
    expect(unavailability(rep("off"), at("2026-11-24T15:00:00Z"))).toBe("inactive");
    expect(unavailability(rep("away"), at("2026-11-24T15:00:00Z"))).toBe("out-of-office");
    expect(unavailability(rep("away"), at("2026-11-25T00:30:00Z"))).toBeUndefined();
  });

  it("skips a rep at the daily cap, counted in the rep's own day", async () => {
    const capOnly = routing(salesTeam(always("capped", 1, ", dailyCap: 1, timezone: Asia/Tokyo") + always("ben")));
    const { store } = memoryRoutingStore();
    const picks: string[] = [];
    for (let lead = 0; lead < 4; lead++) {
      const recipient = await nextRecipient(store, team(capOnly), [], at("2026-11-24T10:00:00Z"));
      picks.push(recipient.kind === "rep" ? recipient.rep.id : recipient.kind);
    }
    expect(picks.filter((id) => id === "capped")).toHaveLength(1);
    // 15:30 UTC is already the 25th in Tokyo: a new day, a new count.
    const nextDay = await nextRecipient(store, team(capOnly), ["ben"], at("2026-11-24T15:30:00Z"));
    expect(nextDay).toMatchObject({ kind: "rep", rep: { id: "capped" } });
  });

  it("handles spans past midnight", () => {
    const night = routing(salesTeam(always("owl", 1, ', timezone: UTC, hours: { mon-fri: "22:00-06:00" }')));
    const owl = team(night).reps[0] as Team["reps"][number];
    expect(withinHours(owl.hours, "UTC", at("2026-11-24T23:00:00Z"))).toBe(true);
    expect(withinHours(owl.hours, "UTC", at("2026-11-25T05:00:00Z"))).toBe(true);
    expect(withinHours(owl.hours, "UTC", at("2026-11-25T07:00:00Z"))).toBe(false);
  });
});

describe("tiers, the manager and after hours", () => {
  const reps = always("ana") + always("ben") + always("cy");

  it("alerts `tiers` reps, then the manager, then nobody", async () => {
    const model = routing(salesTeam(reps));
    const { store } = memoryRoutingStore();
    const now = at("2026-11-24T15:00:00Z");
    const first = await nextRecipient(store, team(model), [], now);
    if (first.kind !== "rep") throw new Error("expected a rep");
    const second = await nextRecipient(store, team(model), [first.rep.id], now);
    if (second.kind !== "rep") throw new Error("expected a rep");
    expect([first.tier, second.tier]).toEqual([1, 2]);
    expect(second.rep.id).not.toBe(first.rep.id);
    const tried = [first.rep.id, second.rep.id];
    expect(await nextRecipient(store, team(model), tried, now)).toMatchObject({ kind: "manager", tier: 3 });
    expect(await nextRecipient(store, team(model), [...tried, "maria"], now)).toEqual({ kind: "nobody" });
  });

  it("goes to the manager when no rep can take the lead at all", async () => {
    const model = routing(salesTeam(always("ana", 1, ", active: false")));
    const { store } = memoryRoutingStore();
    expect(await nextRecipient(store, team(model), [], at("2026-11-24T15:00:00Z"))).toMatchObject({ kind: "manager" });
  });

  const officeHours = (id: string, zone: string) =>
    always(id, 1, `, timezone: ${zone}, hours: { mon-fri: "09:00-17:00" }`);

  it("holds the lead after hours for the rep whose shift starts first", async () => {
    const model = routing(salesTeam(officeHours("ny", "America/New_York") + officeHours("ldn", "Europe/London")));
    const { store } = memoryRoutingStore();
    // Tuesday 23:00 UTC: 18:00 in New York, 23:00 in London; London opens first (09:00 GMT).
    const recipient = await nextRecipient(store, team(model), [], at("2026-11-24T23:00:00Z"));
    expect(recipient).toMatchObject({ kind: "rep", rep: { id: "ldn" }, startsAt: at("2026-11-25T09:00:00Z") });
  });

  it("alerts the on-call rep at once after hours", async () => {
    const model = routing(
      salesTeam(
        officeHours("ny", "America/New_York") + always("night", 1, ", active: true"),
        "    afterHours: { mode: on-call, rep: ny }\n",
      ),
    );
    const { store } = memoryRoutingStore();
    const onCall = routing(
      salesTeam(
        officeHours("ny", "America/New_York") + officeHours("ldn", "Europe/London"),
        "    afterHours: { mode: on-call, rep: ny }\n",
      ),
    );
    expect(await nextRecipient(store, team(model), [], at("2026-11-24T23:00:00Z"))).toMatchObject({
      rep: { id: "night" },
    });
    const recipient = await nextRecipient(store, team(onCall), [], at("2026-11-24T23:00:00Z"));
    expect(recipient).toMatchObject({ kind: "rep", rep: { id: "ny" } });
    expect(recipient).not.toHaveProperty("startsAt");
  });
});

describe("an escalation", () => {
  const model = routing(salesTeam(always("ana") + always("ben")));
  const now = new Date("2026-11-24T15:00:00.000Z");

  async function setUp(options: { owner?: string } = {}) {
    const memory = memoryRepository();
    const { lead } = applyCapture(undefined, capture({ email: "ada@example.com", firstName: "Ada" }), {
      leadId: "lead-1",
      now: now.toISOString(),
    });
    await memory.repository.saveLead(
      { ...lead, ...(options.owner ? { owner: options.owner } : {}) } as Lead,
      undefined,
    );
    const routingStore = memoryRoutingStore();
    const outbox = recordingOutbox();
    let clock = now;
    const deps = {
      repository: memory.repository,
      publisher: memoryPublisher().publisher,
      store: routingStore.store,
      routing: model,
      scoring: shippedScoring,
      send: outbox.send,
      tasks: outbox.tasks,
      from: model.from,
      linkFor: async (token: string) => `https://leadflow.example/alerts/${token}`,
      now: () => clock,
      timeScale: 1,
    };
    let ids = 0;
    const claim = (trigger: { id: string; at?: string }) =>
      claimEscalation(
        deps,
        { leadId: "lead-1", type: "lead.hot", at: now.toISOString(), ...trigger },
        () => `esc-${++ids}`,
      );
    return {
      deps,
      memory,
      routingStore,
      outbox,
      claim,
      advance: (seconds: number) => {
        clock = new Date(clock.getTime() + seconds * 1000);
      },
    };
  }

  it("starts once per lead: not for an old event, an owned lead, or a second trigger while one runs", async () => {
    const { claim } = await setUp();
    expect(await claim({ id: "e0", at: "2026-11-24T13:59:00.000Z" })).toEqual({ start: false, reason: "too-old" });
    expect(await claim({ id: "e1" })).toEqual({ start: true, escalationId: "esc-1", leadId: "lead-1" });
    expect(await claim({ id: "e1" })).toEqual({ start: true, escalationId: "esc-1", leadId: "lead-1" });
    expect(await claim({ id: "e2" })).toEqual({ start: false, reason: "running" });
    const owned = await setUp({ owner: "ben" });
    expect(await owned.claim({ id: "e1" })).toEqual({ start: false, reason: "owned" });
  });

  it("alerts by email and SMS with the link, and sends the same alert again when the task is retried", async () => {
    const { deps, claim, outbox, routingStore } = await setUp();
    await claim({ id: "e1" });
    const step = await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 1 });
    expect(step).toMatchObject({ done: false, tier: 1, firstWaitSeconds: 150, secondWaitSeconds: 150 });
    const again = await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 1 });
    expect(again).toEqual(step);
    expect(routingStore.alerts.size).toBe(1);
    const token = (step as { token: string }).token;
    expect(outbox.sent.map(({ channel, to }) => [channel, to])).toEqual([
      ["email", "ana@example.com"],
      ["sms", "+14155550103"],
      ["email", "ana@example.com"],
      ["sms", "+14155550103"],
    ]);
    expect(new Set(outbox.sent.map(({ id }) => id)).size).toBe(2);
    expect(outbox.sent[0]?.text).toContain(`https://leadflow.example/alerts/${token}`);
    expect(routingStore.history.map(({ type }) => type)).toEqual(["alert.sent"]);
  });

  it("moves on when nobody answers: reminder, time-out (the old link is gone), next rep, manager, then stops", async () => {
    const { deps, claim, routingStore, outbox } = await setUp();
    await claim({ id: "e1" });
    const first = (await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 1 })) as { token: string };
    await remind(deps, first);
    await expire(deps, first);
    await expect(answerAlert(deps, first.token, "accept")).rejects.toMatchObject({
      code: "gone",
    } satisfies Partial<AlertGoneError>);
    const second = await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 2 });
    const third = await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 3 });
    expect(await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 4 })).toEqual({ done: true });
    expect([second, third].map((step) => (step as { tier: number }).tier)).toEqual([2, 3]);
    expect(outbox.sent.filter(({ channel }) => channel === "email").map(({ to }) => to)).toEqual([
      "ana@example.com",
      "ana@example.com",
      "ben@example.com",
      "maria@example.com",
    ]);
    expect(routingStore.history.map(({ type, details }) => `${type} ${details.rep}`)).toEqual([
      "alert.sent ana",
      "alert.reminded ana",
      "alert.timed-out ana",
      "alert.sent ben",
      "alert.escalated ben",
      "alert.sent maria",
      "alert.escalated maria",
    ]);
    expect(routingStore.escalations.get("lead-1")).toMatchObject({ status: "done", outcome: "unanswered" });
  });

  it("gives the lead to whoever accepts: of 10 simultaneous accepts one wins, the others find the link gone", async () => {
    const { deps, claim, memory, outbox } = await setUp();
    await claim({ id: "e1" });
    const { token } = (await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 1 })) as {
      token: string;
    };
    await awaitAnswer(deps, { token, taskToken: "task-1" });
    const answers = await Promise.allSettled(Array.from({ length: 10 }, () => answerAlert(deps, token, "accept")));
    expect(answers.filter(({ status }) => status === "fulfilled")).toHaveLength(1);
    expect(answers.filter(({ status }) => status === "rejected")).toHaveLength(9);
    expect(memory.leads.get("lead-1")).toMatchObject({ owner: "ana", ownerSince: now.toISOString() });
    expect(outbox.answered).toEqual([{ taskToken: "task-1", output: { action: "accept" } }]);
    expect(await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 2 })).toEqual({ done: true });
  });

  it("answers the waiting task at once when the rep accepted before the workflow started waiting", async () => {
    const { deps, claim, outbox } = await setUp();
    await claim({ id: "e1" });
    const { token } = (await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 1 })) as {
      token: string;
    };
    await answerAlert(deps, token, "decline");
    await awaitAnswer(deps, { token, taskToken: "task-1" });
    expect(outbox.answered).toEqual([{ taskToken: "task-1", output: { action: "decline" } }]);
  });

  it("picks up where a lost execution was: waiting on the pending alert, or alerting the next tier", async () => {
    const { deps, claim, routingStore, advance } = await setUp();
    await claim({ id: "e1" });
    const first = (await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 1 })) as { token: string };
    advance(60);
    const escalation = () => routingStore.escalations.get("lead-1") as Escalation;
    expect(await resumeStep(deps, escalation())).toMatchObject({
      token: first.token,
      tier: 1,
      firstWaitSeconds: 90,
      secondWaitSeconds: 150,
    });
    await expire(deps, first);
    expect(await resumeStep(deps, escalation())).toMatchObject({ tier: 2, firstWaitSeconds: 150 });
  });

  it("refuses an answer after the deadline even before the workflow times the alert out", async () => {
    const { deps, claim, advance } = await setUp();
    await claim({ id: "e1" });
    const { token } = (await alertNext(deps, { leadId: "lead-1", escalationId: "esc-1", tier: 1 })) as {
      token: string;
    };
    advance(301);
    await expect(answerAlert(deps, token, "accept")).rejects.toMatchObject({ code: "gone" });
  });
});

describe("the speed-to-lead report", () => {
  it("counts per rep and team, with acceptance times from the trigger", () => {
    const alert = (rep: string, tier: number, status: string, acceptedAfter?: number) => ({
      token: `${rep}-${tier}-${status}`,
      alertId: "x",
      escalationId: "e",
      leadId: "l",
      team: "sales",
      tier,
      role: "rep" as const,
      recipient: { id: rep, name: rep, email: `${rep}@example.com`, phone: undefined },
      status: status as "accepted",
      triggeredAt: "2026-11-24T10:00:00.000Z",
      sentAt: "2026-11-24T10:00:01.000Z",
      startsAt: "2026-11-24T10:00:01.000Z",
      deadline: "2026-11-24T10:05:01.000Z",
      ...(acceptedAfter !== undefined
        ? { answeredAt: new Date(Date.parse("2026-11-24T10:00:00Z") + acceptedAfter * 1000).toISOString() }
        : {}),
    });
    const report = speedToLeadReport(
      [
        alert("ana", 1, "accepted", 60),
        alert("ana", 1, "accepted", 120),
        alert("ana", 1, "timed-out"),
        alert("ben", 2, "declined"),
      ],
      new Date("2026-11-24T00:00:00Z"),
      new Date("2026-11-25T00:00:00Z"),
    );
    expect(report.reps).toEqual([
      {
        team: "sales",
        rep: "ana",
        alerts: 3,
        accepted: 2,
        declined: 0,
        timedOut: 1,
        escalated: 0,
        p50AcceptSeconds: 60,
        p90AcceptSeconds: 120,
      },
      {
        team: "sales",
        rep: "ben",
        alerts: 1,
        accepted: 0,
        declined: 1,
        timedOut: 0,
        escalated: 1,
        p50AcceptSeconds: null,
        p90AcceptSeconds: null,
      },
    ]);
    expect(report.teams).toEqual([
      {
        team: "sales",
        alerts: 4,
        accepted: 2,
        declined: 1,
        timedOut: 1,
        escalated: 1,
        p50AcceptSeconds: 60,
        p90AcceptSeconds: 120,
      },
    ]);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
  });
});
