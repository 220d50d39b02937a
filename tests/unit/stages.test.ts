import {
  allowedNext,
  applyCapture,
  canTransition,
  initialQualification,
  type Lead,
  LeadflowError,
  parseScoring,
  qualify,
  type Stage,
  type StageActor,
  StageTransitionError,
  stages,
  transition,
} from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { capture } from "../helpers/captures.ts";
import { thresholdsYaml } from "../helpers/scoring.ts";

const now = "2026-11-24T10:00:00.000Z";
const earlier = "2026-11-01T10:00:00.000Z";

const scoring = parseScoring(`fit:
  - { id: title, field: jobTitle, exists: true, points: 60 }
engagement:
  halfLifeDays: 14
bant:
  need:
    fields: [custom.need]
    qualifies: { in: [immediate] }
  timeline:
    fields: [custom.timeline]
${thresholdsYaml}`);

function leadAt(stage: Stage, lead: Partial<Parameters<typeof capture>[0]> = {}): Lead {
  const created = applyCapture(undefined, capture(lead), { leadId: "lead-1", now }).lead;
  return { ...created, qualification: { ...initialQualification(earlier, scoring.version), stage } };
}

function qualifyNow(lead: Lead) {
  return qualify(lead, scoring, { now, version: lead.version + 1, cause: { kind: "decay" } });
}

const allowedMoves: Record<Stage, Stage[]> = {
  new: ["information-qualified", "marketing-qualified", "sales-qualified", "customer", "disqualified"],
  "information-qualified": ["marketing-qualified", "sales-qualified", "customer", "disqualified", "recycled"],
  "marketing-qualified": ["sales-qualified", "customer", "disqualified", "recycled"],
  "sales-qualified": ["customer", "disqualified", "recycled"],
  customer: [],
  disqualified: ["recycled"],
  recycled: ["information-qualified", "marketing-qualified", "sales-qualified", "customer", "disqualified"],
};

function movesFor(actor: StageActor): Record<Stage, Stage[]> {
  return Object.fromEntries(
    stages.map((from) => [from, stages.filter((to) => canTransition(from, to, actor))]),
  ) as Record<Stage, Stage[]>;
}

describe("stage transitions", () => {
  it("lets a rep make every move the funnel allows, and no other", () => {
    expect(movesFor("rep")).toEqual(allowedMoves);
    for (const from of stages) expect(allowedNext(from)).toEqual(allowedMoves[from]);
  });

  it("lets the CRM make the same moves as a rep", () => {
    expect(movesFor("crm")).toEqual(allowedMoves);
  });

  it("lets scoring only qualify: up to information-qualified and marketing-qualified", () => {
    expect(movesFor("scoring")).toEqual({
      new: ["information-qualified", "marketing-qualified"],
      "information-qualified": ["marketing-qualified"],
      "marketing-qualified": [],
      "sales-qualified": [],
      customer: [],
      disqualified: [],
      recycled: ["information-qualified", "marketing-qualified"],
    });
  });

  it("never lets scoring make a lead sales-qualified, a customer or disqualified", () => {
    for (const from of stages) {
      for (const to of ["sales-qualified", "customer", "disqualified"] as const) {
        expect(canTransition(from, to, "scoring")).toBe(false);
      }
    }
  });

  it("refuses staying put and moving a customer anywhere", () => {
    for (const stage of stages) expect(canTransition(stage, stage, "rep")).toBe(false);
    expect(allowedNext("customer")).toEqual([]);
  });

  it("returns the new stage of an allowed move", () => {
    expect(transition("marketing-qualified", "sales-qualified", "rep")).toBe("sales-qualified");
    expect(transition("disqualified", "recycled", "crm")).toBe("recycled");
    expect(transition("new", "information-qualified", "scoring")).toBe("information-qualified");
  });

  it("refuses a move with invalid_transition", () => {
    expect(() => transition("customer", "recycled", "rep")).toThrow(StageTransitionError);
    expect(() => transition("new", "recycled", "crm")).toThrow(LeadflowError);
    expect(() => transition("marketing-qualified", "sales-qualified", "scoring")).toThrow(
      expect.objectContaining({
        code: "invalid_transition",
        name: "StageTransitionError",
        message: "A lead cannot move from marketing-qualified to sales-qualified (scoring)",
      }),
    );
  });

  it("names in a refusal the moves open to that actor", () => {
    expect(() => transition("new", "recycled", "rep")).toThrow(
      expect.objectContaining({
        details: {
          from: "new",
          to: "recycled",
          actor: "rep",
          allowed: ["information-qualified", "marketing-qualified", "sales-qualified", "customer", "disqualified"],
        },
      }),
    );
    expect(() => transition("new", "sales-qualified", "scoring")).toThrow(
      expect.objectContaining({
        details: {
          from: "new",
          to: "sales-qualified",
          actor: "scoring",
          allowed: ["information-qualified", "marketing-qualified"],
        },
      }),
    );
  });
});

describe("stages moved by scoring", () => {
  it("makes a new lead information-qualified once a BANT question is answered", () => {
    const { qualification, history } = qualifyNow(leadAt("new", { custom: { timeline: "next year" } }));
    expect(qualification).toMatchObject({ stage: "information-qualified", stageSince: now });
    expect(history.filter(({ type }) => type === "stage.changed")).toEqual([
      {
        leadId: "lead-1",
        id: "stage.changed:2:information-qualified",
        at: now,
        type: "stage.changed",
        summary: "Stage new → information-qualified: 1 BANT question(s) answered on a form",
        details: {
          from: "new",
          to: "information-qualified",
          because: "1 BANT question(s) answered on a form",
          score: { fit: 0, engagement: 0, total: 0 },
          cause: { kind: "decay" },
          configVersion: scoring.version,
        },
      },
    ]);
  });

  it("counts an answer that does not qualify as answered", () => {
    expect(qualifyNow(leadAt("new", { custom: { need: "later" } })).qualification.stage).toBe("information-qualified");
  });

  it("makes a lead marketing-qualified once its score reaches the MQL threshold", () => {
    const { qualification, history } = qualifyNow(leadAt("new", { jobTitle: "Analyst" }));
    expect(qualification.stage).toBe("marketing-qualified");
    expect(history.filter(({ type }) => type === "stage.changed").map(({ summary }) => summary)).toEqual([
      "Stage new → marketing-qualified: score 60 ≥ 60 (MQL threshold)",
    ]);
  });

  it("passes through information-qualified when both happen at once", () => {
    const { qualification, history } = qualifyNow(
      leadAt("new", { jobTitle: "Analyst", custom: { need: "immediate" } }),
    );
    expect(qualification.stage).toBe("marketing-qualified");
    expect(history.filter(({ type }) => type === "stage.changed").map(({ id, details }) => [id, details.from])).toEqual(
      [
        ["stage.changed:2:information-qualified", "new"],
        ["stage.changed:2:marketing-qualified", "information-qualified"],
      ],
    );
  });

  it("qualifies a recycled lead again", () => {
    const { qualification } = qualifyNow(leadAt("recycled", { jobTitle: "Analyst", custom: { need: "immediate" } }));
    expect(qualification.stage).toBe("marketing-qualified");
  });

  it("leaves a lead a rep or the CRM moved on where it is", () => {
    for (const stage of ["sales-qualified", "customer", "disqualified"] as const) {
      const { qualification, history } = qualifyNow(leadAt(stage, { jobTitle: "Analyst", custom: { need: "now" } }));
      expect(qualification.stage).toBe(stage);
      expect(history.filter(({ type }) => type === "stage.changed")).toEqual([]);
    }
  });

  it("keeps a new lead new without answers or score, and keeps when its stage began", () => {
    const { qualification, history } = qualifyNow(leadAt("new"));
    expect(qualification).toMatchObject({ stage: "new", stageSince: earlier });
    expect(history.filter(({ type }) => type === "stage.changed")).toEqual([]);
  });
});
