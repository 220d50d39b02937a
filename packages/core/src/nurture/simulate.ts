import { DateTime } from "luxon";
import type { Lead } from "../leads/lead.ts";
import { type Enrolment, mayEnrol, planStep, type Reachability, type StepFacts } from "./enrolment.ts";
import { maxSendsAtOnce } from "./runner.ts";
import type { CompiledSequence } from "./sequence.ts";
import type { Channel } from "./timing.ts";
import { leadTimeZones } from "./zones.ts";

/**
 * `npm run sequences -- simulate`: what a sequence would send, when, to which leads, over the next
 * days, worked out in memory. Each lead's run is planned by `planStep` (the step runner's own
 * planner) on a simulated clock that jumps from one due time to the next; sends count toward the
 * caps as they would, engagement is assumed none (no open, click or reply), and nothing is sent
 * or written. Leads are independent of each other, so each is played out on its own.
 */

/** One lead as the simulation sees it: what the step runner would read about it. */
export interface SimulatedLead {
  lead: Lead;
  reach: Reachability;
  /** Every message already sent to the lead (its contact log, all sequences), for the caps. */
  contactTimes: readonly string[];
  /** Its enrolment in the sequence, if it has one (active, or ended: what re-entry reads). */
  enrolment?: Enrolment;
  /** The version an active enrolment runs (its digest's); the config's when absent. */
  runs?: CompiledSequence;
}

export interface SimulationInput {
  /** The sequence as the config has it now: the version new enrolments start. */
  sequence: CompiledSequence;
  leads: readonly SimulatedLead[];
  now: Date;
  days: number;
  /** Where leads with no known zone are taken to be (NURTURE_ACCOUNT_TIMEZONE). */
  accountZone: string;
  /** When the enrolment schedule would next run at or after a time; at once when absent. */
  enrolTick?: (at: Date) => Date;
  /** When the step schedule would next run at or after a time; at once when absent. */
  stepTick?: (at: Date) => Date;
}

export type SimulatedAction = "enrol" | "send" | "skip" | "defer" | "exit" | "complete";

export interface SimulatedRow {
  at: string;
  leadId: string;
  /** The lead's wall clock at `at`, in its first zone: `Tue 2026-03-03 09:00`. */
  localTime: string;
  /** That zone, with how many more the lead may be in (`America/New_York +28`). */
  zone: string;
  action: SimulatedAction;
  stepId?: string;
  channel?: Channel;
  /** Why a step was deferred or skipped, or the lead exited. */
  reason?: string;
  /** Until when a deferred step waits. */
  until?: string;
}

export interface SimulationTotals {
  /** Leads already enrolled (active) that the simulation played out. */
  enrolled: number;
  /** Leads gone cold that the enrolment would take within the days simulated. */
  enrolling: number;
  /** Cold leads looked at that the entry or re-entry rule keeps out. */
  notTaken: number;
  /** Cold leads that would only become eligible after the days simulated. */
  later: number;
  /** Leads that get at least one message. */
  reached: number;
  sent: Record<Channel, number>;
  sentByStep: Record<string, number>;
  deferred: Record<string, number>;
  skipped: Record<string, number>;
  exited: Record<string, number>;
  completed: number;
}

export interface Simulation {
  from: string;
  to: string;
  rows: SimulatedRow[];
  totals: SimulationTotals;
}

const day = 86_400_000;
/** A run that takes more turns than this within the days simulated is cut short (a config loop). */
const maxTurns = 10_000;
const noEngagement: StepFacts["engagement"] = {
  opened: new Set(),
  clicked: new Set(),
  repliedSince: () => false,
};

/** Whether the enrolment schedule looks at cold leads for this sequence (as `enrolColdLeads`). */
export function takesColdLeads(sequence: CompiledSequence): boolean {
  return sequence.entry.temperatures.length === 0 || sequence.entry.temperatures.includes("cold");
}

/** Plays the sequence out for each lead over `days` from `now`; the rows are in time order. */
export function simulateSequence(input: SimulationInput): Simulation {
  const { sequence, now } = input;
  const end = new Date(now.getTime() + input.days * day);
  const enrolTick = input.enrolTick ?? ((at: Date) => at);
  const stepTick = input.stepTick ?? ((at: Date) => at);
  const totals: SimulationTotals = {
    enrolled: 0,
    enrolling: 0,
    notTaken: 0,
    later: 0,
    reached: 0,
    sent: { email: 0, sms: 0 },
    sentByStep: {},
    deferred: {},
    skipped: {},
    exited: {},
    completed: 0,
  };
  const rows: SimulatedRow[] = [];

  for (const candidate of input.leads) {
    const { lead } = candidate;
    const zones = leadTimeZones(lead, input.accountZone).zones;
    const row = (at: Date, action: SimulatedAction, details: Partial<SimulatedRow> = {}): void => {
      rows.push({ at: at.toISOString(), leadId: lead.id, ...localClock(at, zones), action, ...details });
    };

    let enrolment: Enrolment;
    let runs = sequence;
    if (candidate.enrolment?.status === "active") {
      totals.enrolled++;
      enrolment = candidate.enrolment;
      runs = candidate.runs ?? sequence;
    } else {
      if (!takesColdLeads(sequence)) continue;
      const coldSince = Date.parse(lead.qualification?.temperatureSince ?? "");
      const eligible = Number.isNaN(coldSince) ? now.getTime() : coldSince + sequence.entry.coldForDays * day;
      const enrolAt = enrolTick(new Date(Math.max(now.getTime(), eligible)));
      if (enrolAt > end) {
        totals.later++;
        continue;
      }
      if (!mayEnrol(sequence, lead, candidate.enrolment, enrolAt)) {
        totals.notTaken++;
        continue;
      }
      totals.enrolling++;
      row(enrolAt, "enrol");
      const at = enrolAt.toISOString();
      enrolment = {
        leadId: lead.id,
        sequenceId: sequence.id,
        enrolmentId: "simulated",
        digest: sequence.digest,
        status: "active",
        stepIndex: 0,
        dueAt: at,
        enrolledAt: at,
        sent: [],
        version: 1,
      };
    }

    const contactTimes = [...candidate.contactTimes];
    let sentHere = 0;
    let due = stepTick(new Date(Math.max(now.getTime(), Date.parse(enrolment.dueAt ?? now.toISOString()))));
    let turns = 0;
    run: while (due <= end && turns++ < maxTurns) {
      const facts: StepFacts = {
        lead,
        reach: candidate.reach,
        zones,
        contactTimes,
        engagement: noEngagement,
        now: due,
      };
      let sendsNow = 0;
      for (;;) {
        const plan = planStep(runs, enrolment, facts);
        if (plan.kind === "exit") {
          totals.exited[plan.reason] = (totals.exited[plan.reason] ?? 0) + 1;
          row(due, "exit", { reason: plan.reason });
          break run;
        }
        if (plan.kind === "complete") {
          totals.completed++;
          row(due, "complete");
          break run;
        }
        if (plan.kind === "wait") {
          if (plan.because !== "wait") {
            const step = runs.steps[plan.stepIndex];
            totals.deferred[plan.because] = (totals.deferred[plan.because] ?? 0) + 1;
            row(due, "defer", {
              ...(step ? { stepId: step.id } : {}),
              ...(step?.kind === "email" || step?.kind === "sms" ? { channel: step.kind } : {}),
              reason: plan.because,
              until: plan.dueAt.toISOString(),
            });
          }
          enrolment = { ...enrolment, stepIndex: plan.stepIndex, dueAt: plan.dueAt.toISOString() };
          due = stepTick(plan.dueAt);
          break;
        }
        if (plan.kind === "skip") {
          totals.skipped[plan.because] = (totals.skipped[plan.because] ?? 0) + 1;
          row(due, "skip", { stepId: plan.step.id, channel: plan.step.kind, reason: plan.because });
          enrolment = { ...enrolment, stepIndex: plan.stepIndex + 1 };
          continue;
        }
        if (sendsNow >= maxSendsAtOnce) {
          due = stepTick(new Date(due.getTime() + 1));
          break;
        }
        const at = due.toISOString();
        row(due, "send", { stepId: plan.step.id, channel: plan.step.kind });
        totals.sent[plan.step.kind]++;
        totals.sentByStep[plan.step.id] = (totals.sentByStep[plan.step.id] ?? 0) + 1;
        contactTimes.push(at);
        sendsNow++;
        sentHere++;
        enrolment = {
          ...enrolment,
          stepIndex: plan.stepIndex + 1,
          sent: [
            ...enrolment.sent,
            { stepId: plan.step.id, messageId: `simulated-${at}`, channel: plan.step.kind, at },
          ],
        };
      }
    }
    if (sentHere > 0) totals.reached++;
  }

  rows.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.leadId < b.leadId ? -1 : a.leadId > b.leadId ? 1 : 0));
  return { from: now.toISOString(), to: end.toISOString(), rows, totals };
}

function localClock(at: Date, zones: readonly string[]): { localTime: string; zone: string } {
  const zone = zones[0] ?? "UTC";
  const localTime = DateTime.fromJSDate(at, { zone }).setLocale("en").toFormat("ccc yyyy-MM-dd HH:mm");
  return { localTime, zone: zones.length > 1 ? `${zone} +${zones.length - 1}` : zone };
}
