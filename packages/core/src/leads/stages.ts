import { LeadflowError } from "../errors.ts";

/** The funnel. Scoring moves a lead up to marketing-qualified; reps and the CRM do the rest. */
export const stages = [
  "new",
  "information-qualified",
  "marketing-qualified",
  "sales-qualified",
  "customer",
  "disqualified",
  "recycled",
] as const;
export type Stage = (typeof stages)[number];

/** Who moves a lead: scoring (form answers and score), a rep, or the CRM / billing system. */
export type StageActor = "scoring" | "rep" | "crm";

const allowed: Readonly<Record<Stage, readonly Stage[]>> = {
  new: ["information-qualified", "marketing-qualified", "sales-qualified", "customer", "disqualified"],
  "information-qualified": ["marketing-qualified", "sales-qualified", "customer", "disqualified", "recycled"],
  "marketing-qualified": ["sales-qualified", "customer", "disqualified", "recycled"],
  "sales-qualified": ["customer", "disqualified", "recycled"],
  customer: [],
  disqualified: ["recycled"],
  recycled: ["information-qualified", "marketing-qualified", "sales-qualified", "customer", "disqualified"],
};

/** Scoring only ever qualifies: it never makes a lead sales-qualified, a customer, or disqualified. */
const reachableByScoring: ReadonlySet<Stage> = new Set(["information-qualified", "marketing-qualified"]);

export class StageTransitionError extends LeadflowError {
  readonly code = "invalid_transition";

  constructor(from: Stage, to: Stage, actor: StageActor) {
    super(`A lead cannot move from ${from} to ${to} (${actor})`, {
      from,
      to,
      actor,
      allowed: allowedNext(from).filter((next) => canTransition(from, next, actor)),
    });
  }
}

export function allowedNext(from: Stage): readonly Stage[] {
  return allowed[from];
}

export function canTransition(from: Stage, to: Stage, actor: StageActor): boolean {
  if (!allowed[from].includes(to)) return false;
  return actor !== "scoring" || reachableByScoring.has(to);
}

/** The stage after the move, or a StageTransitionError naming what is allowed. */
export function transition(from: Stage, to: Stage, actor: StageActor): Stage {
  if (!canTransition(from, to, actor)) throw new StageTransitionError(from, to, actor);
  return to;
}
