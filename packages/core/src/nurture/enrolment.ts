import { DateTime } from "luxon";
import type { Lead } from "../leads/lead.ts";
import type { CompiledSequence, CompiledStep, SequenceExitReason } from "./sequence.ts";
import { type Channel, planSend } from "./timing.ts";

/**
 * A lead's run through one sequence: which version (digest) it started, the step it is at and
 * when that step is due. Kept in the lead's partition, one per (lead, sequence); while active it
 * is in the due index by `dueAt`, which the step tick reads.
 */
export interface Enrolment {
  leadId: string;
  sequenceId: string;
  /** Unique per enrolment (a lead enrolled again gets a new one): message ids are built from it. */
  enrolmentId: string;
  /** The compiled version the lead started, stored under (sequenceId, digest). */
  digest: string;
  label?: string;
  status: EnrolmentStatus;
  /** The next step to run. */
  stepIndex: number;
  /** When the next step is due; once ended, when it may start again (`reentry`), if it may. */
  dueAt?: string;
  enrolledAt: string;
  endedAt?: string;
  exitReason?: SequenceExitReason;
  /** What it sent, oldest first. */
  sent: SentStep[];
  /** Why the current step last waited past its due time (a window, a cap, SMS hours). */
  deferredBy?: string;
  /** Runs of the current step started (claimed) and not finished: a run that died leaves one. */
  attempts?: number;
  version: number;
}

/** `failed`: its step could not be run after `maxStepAttempts` tries (see `runDueStep`). */
export type EnrolmentStatus = "active" | "completed" | "exited" | "failed";

export interface SentStep {
  stepId: string;
  messageId: string;
  channel: Channel;
  at: string;
}

/** Whatever keeps a channel from a lead, as the suppression list and consent say. */
export interface Reachability {
  /** The lead's email, unless suppressed (unsubscribed, bounced, complained). */
  email: "ok" | "none" | "unsubscribed" | "bounced";
  /** The lead's phone, when it has SMS consent and sent no STOP since. */
  sms: "ok" | "none" | "no-consent" | "stopped";
}

/** What the step planner needs to know about the lead, besides the lead itself. */
export interface StepFacts {
  lead: Lead;
  reach: Reachability;
  /** The lead's zones (`leadTimeZones`). */
  zones: readonly string[];
  /** Every message sent to the lead (all sequences), for the caps. */
  contactTimes: readonly string[];
  /** Engagement with messages sent (from the events `email_open`, `email_click`, `reply`). */
  engagement: { opened: ReadonlySet<string>; clicked: ReadonlySet<string>; repliedSince(at: string): boolean };
  now: Date;
}

export type StepPlan =
  | { kind: "exit"; reason: SequenceExitReason }
  | { kind: "complete" }
  /** Nothing to do until `dueAt`: a wait step, or a send held by its window, caps or SMS hours. */
  | { kind: "wait"; stepIndex: number; dueAt: Date; because: string }
  | { kind: "send"; stepIndex: number; step: SendingStep }
  /** A send the lead cannot get (no address, no consent, after STOP): passed over, not retried. */
  | { kind: "skip"; stepIndex: number; step: SendingStep; because: string };

export type SendingStep = Extract<CompiledStep, { kind: "email" | "sms" }>;

/** Steps taken in one go before the planner stops (a branch loop in config ends here). */
const maxStepsAtOnce = 50;

/**
 * The next thing to do for an active enrolment at `facts.now`: exit, finish, wait, send a step
 * or pass over one. Waits and branches are resolved here; a caller that sends or skips asks again
 * with the enrolment moved on, so one due step plays out up to its next wait.
 */
export function planStep(sequence: CompiledSequence, enrolment: Enrolment, facts: StepFacts): StepPlan {
  const exit = exitReason(sequence, enrolment, facts);
  if (exit) return { kind: "exit", reason: exit };
  let index = enrolment.stepIndex;
  for (let taken = 0; taken < maxStepsAtOnce; taken++) {
    const step = sequence.steps[index];
    if (!step) return { kind: "complete" };
    switch (step.kind) {
      case "wait":
        return {
          kind: "wait",
          stepIndex: index + 1,
          dueAt: new Date(facts.now.getTime() + step.seconds * 1000),
          because: "wait",
        };
      case "wait-until":
        return { kind: "wait", stepIndex: index + 1, dueAt: nextWeekdayTime(step, facts), because: "wait" };
      case "branch": {
        const target = branchHolds(step, enrolment, facts) ? step.then : step.else;
        if (target === "exit") return { kind: "complete" };
        index = target === "next" ? index + 1 : sequence.steps.findIndex((candidate) => candidate.id === target);
        if (index < 0) return { kind: "complete" };
        continue;
      }
      default:
        return planSendingStep(sequence, index, step, facts);
    }
  }
  return { kind: "complete" };
}

function planSendingStep(sequence: CompiledSequence, index: number, step: SendingStep, facts: StepFacts): StepPlan {
  const reach = step.kind === "email" ? facts.reach.email : facts.reach.sms;
  if (reach !== "ok") return { kind: "skip", stepIndex: index, step, because: reach };
  const plan = planSend({
    channel: step.kind,
    window: sequence.window,
    zones: facts.zones,
    sentAt: facts.contactTimes,
    caps: sequence.caps,
    at: facts.now,
  });
  if (plan.send) return { kind: "send", stepIndex: index, step };
  return { kind: "wait", stepIndex: index, dueAt: plan.until, because: plan.reason };
}

/** Why the enrolment ends now, among the exits the sequence lists; undefined to go on. */
export function exitReason(
  sequence: CompiledSequence,
  enrolment: Pick<Enrolment, "enrolledAt">,
  facts: Pick<StepFacts, "lead" | "reach" | "engagement">,
): SequenceExitReason | undefined {
  const { qualification } = facts.lead;
  const reasons: [SequenceExitReason, boolean][] = [
    ["unsubscribed", facts.reach.email === "unsubscribed"],
    ["bounced", facts.reach.email === "bounced"],
    ["converted", qualification?.stage === "customer"],
    ["hot", qualification?.temperature === "hot"],
    ["replied", facts.engagement.repliedSince(enrolment.enrolledAt)],
  ];
  return reasons.find(([reason, holds]) => holds && sequence.exit.includes(reason))?.[0];
}

function branchHolds(step: Extract<CompiledStep, { kind: "branch" }>, enrolment: Enrolment, facts: StepFacts): boolean {
  const condition = step.if;
  if ("replied" in condition) return facts.engagement.repliedSince(enrolment.enrolledAt);
  const [target, seen] =
    "clicked" in condition
      ? [condition.clicked, facts.engagement.clicked]
      : [condition.opened, facts.engagement.opened];
  const emails = enrolment.sent.filter((sent) => sent.channel === "email");
  const message = target === "previous" ? emails.at(-1) : emails.findLast((sent) => sent.stepId === target);
  return message !== undefined && seen.has(message.messageId);
}

/** `wait: { until: "tue 10:00" }`: the next such moment after now, in the lead's first zone. */
function nextWeekdayTime(step: { weekday: number; minute: number }, facts: StepFacts): Date {
  const zone = facts.zones[0] ?? "UTC";
  const local = DateTime.fromJSDate(facts.now, { zone });
  let candidate = local.set({
    hour: Math.floor(step.minute / 60),
    minute: step.minute % 60,
    second: 0,
    millisecond: 0,
  });
  const days = (step.weekday - candidate.weekday + 7) % 7;
  candidate = candidate.plus({ days });
  if (candidate <= local) candidate = candidate.plus({ days: 7 });
  return candidate.toJSDate();
}

/**
 * Whether a lead is enrolled in the sequence now: it matches the entry, and either was never
 * enrolled or left long enough ago for the sequence's re-entry rule.
 */
export function mayEnrol(
  sequence: CompiledSequence,
  lead: Lead,
  previous: Pick<Enrolment, "status" | "endedAt"> | undefined,
  now: Date,
): boolean {
  const qualification = lead.qualification;
  if (!qualification) return false;
  const { temperatures, coldForDays, stages } = sequence.entry;
  if (temperatures.length > 0 && !temperatures.includes(qualification.temperature)) return false;
  if (stages.length > 0 && !stages.includes(qualification.stage)) return false;
  if (coldForDays > 0) {
    const coldSince = Date.parse(qualification.temperatureSince);
    if (qualification.temperature !== "cold" || now.getTime() - coldSince < coldForDays * 86_400_000) return false;
  }
  if (!previous) return true;
  if (previous.status === "active" || sequence.reentry === "never" || !previous.endedAt) return false;
  return now.getTime() - Date.parse(previous.endedAt) >= sequence.reentry.afterSeconds * 1000;
}

/** An enrolment as `GET /leads/{id}` shows it under `nurture`. */
export function enrolmentView(enrolment: Enrolment) {
  const { leadId: _leadId, enrolmentId: _enrolmentId, version: _version, sent, ...shown } = enrolment;
  return { ...shown, sent: sent.map(({ stepId, channel, at }) => ({ stepId, channel, at })) };
}
