import type { Lead } from "../leads/lead.ts";
import type { LeadFieldName, ScoringModel } from "../scoring/config.ts";
import { leadFieldValues, scoreAt } from "../scoring/qualify.ts";
import { localDate, nextWithinHours, withinHours } from "../time.ts";
import { type Contact, type Rep, type RoutingModel, type Team, weightedSlots } from "./config.ts";

/** The team whose rule matches first; a rule without conditions matches every lead. */
export function teamFor(lead: Lead, routing: RoutingModel, scoring: ScoringModel, now: Date): Team {
  const values = (field: string): string[] => {
    if (field === "score" || field === "temperature" || field === "stage") {
      const qualification = lead.qualification;
      if (!qualification) return [];
      const { score, temperature } = scoreAt(qualification, scoring, now.getTime());
      if (field === "score") return [String(score.total)];
      return [field === "temperature" ? temperature.level : qualification.stage];
    }
    if (field === "emailDomain") return lead.emails.map((email) => email.slice(email.lastIndexOf("@") + 1));
    return leadFieldValues(lead, field as LeadFieldName, scoring);
  };
  const rule = routing.rules.find(({ conditions }) => conditions.every(({ field, test }) => test(values(field))));
  const team = rule && routing.teams.get(rule.team);
  // The config check makes the last rule match everything in practice; a model without one is a config mistake.
  if (!team) throw new Error("No routing rule matches this lead: add a rule without `when` to config/routing.yaml");
  return team;
}

/** Why a rep cannot take a lead now, if they cannot. */
export type Unavailability = "inactive" | "out-of-office" | "outside-hours";

export function unavailability(rep: Rep, now: Date): Unavailability | undefined {
  if (!rep.active) return "inactive";
  if (rep.outOfOfficeUntil && localDate(now, rep.timezone) < rep.outOfOfficeUntil) return "out-of-office";
  if (!withinHours(rep.hours, rep.timezone, now)) return "outside-hours";
  return undefined;
}

/**
 * The team's round-robin position, in the table: a counter of slots taken, incremented
 * atomically, so two leads never take the same slot and racing routings never retry.
 */
export interface RoutingCursors {
  /** Takes the team's next slot and returns its number (0, 1, 2, … for the team's life). */
  take(team: string): Promise<number>;
}

/** Leads alerted to a rep per day (in the rep's zone), counted only while under the cap. */
export interface RepDailyCounts {
  /** Counts one more lead for the rep that day unless `cap` is reached; false when it is. */
  take(team: string, rep: string, date: string, cap: number): Promise<boolean>;
}

export interface RoutingStores {
  cursors: RoutingCursors;
  dailyCounts: RepDailyCounts;
}

/** Who to alert next, and when their clock starts. */
export type Recipient =
  | { kind: "rep"; rep: Rep; tier: number }
  /** After hours, `hold`: the email now, the SMS and the accept time from `startsAt`. */
  | { kind: "rep"; rep: Rep; tier: number; startsAt: Date }
  | { kind: "manager"; manager: Contact; tier: number }
  | { kind: "nobody" };

/**
 * The next person to alert for a lead of `team`, `tried` being who was alerted already (in order).
 * Tiers 1..`sla.tiers` are reps, by weighted round-robin among those available now (active, not
 * out of office, within their hours, under their daily cap); then the manager; then nobody. When
 * no rep is available only because of the hour, the team's after-hours mode decides: `on-call`
 * alerts that rep now, `hold` the rep whose shift starts first, from then.
 */
export async function nextRecipient(
  stores: RoutingStores,
  team: Team,
  tried: readonly string[],
  now: Date,
): Promise<Recipient> {
  const tier = tried.length + 1;
  if (tried.includes(team.manager.id)) return { kind: "nobody" };
  if (tier > team.sla.tiers) return { kind: "manager", manager: team.manager, tier };
  const candidates = team.reps.filter((rep) => !tried.includes(rep.id));
  const rep = await takeSlot(stores, team, new Set(candidates.map((candidate) => candidate.id)), now);
  if (rep) return { kind: "rep", rep, tier };
  return afterHours(team, candidates, now, tier) ?? { kind: "manager", manager: team.manager, tier };
}

/**
 * Takes the team's next slot (one atomic write) in the round of the reps available now, so they
 * share the leads by their weights whoever is away, off shift or tried already. A rep at the
 * daily cap passes the lead on to the next rep of the round.
 */
async function takeSlot(stores: RoutingStores, team: Team, allowed: Set<string>, now: Date): Promise<Rep | undefined> {
  const available = team.reps.filter((rep) => allowed.has(rep.id) && !unavailability(rep, now));
  if (available.length === 0) return undefined;
  const round = available.length === team.reps.length ? team.slots : weightedSlots(available);
  const uncapped = new Map(available.map((rep) => [rep.id, rep]));
  const slot = await stores.cursors.take(team.name);
  for (let step = 0; step < round.length && uncapped.size > 0; step++) {
    const rep = uncapped.get(round[(slot + step) % round.length] as string);
    if (!rep) continue;
    if (await underDailyCap(stores, team, rep, now)) return rep;
    uncapped.delete(rep.id);
  }
  return undefined;
}

/** Counts the lead for the rep's day unless the rep's daily cap is reached. */
async function underDailyCap(stores: RoutingStores, team: Team, rep: Rep, now: Date): Promise<boolean> {
  if (rep.dailyCap === undefined) return true;
  return stores.dailyCounts.take(team.name, rep.id, localDate(now, rep.timezone), rep.dailyCap);
}

function afterHours(team: Team, candidates: readonly Rep[], now: Date, tier: number): Recipient | undefined {
  const offShift = candidates.filter((rep) => unavailability(rep, now) === "outside-hours");
  if (offShift.length === 0) return undefined;
  if (team.afterHours.mode === "on-call") {
    const onCall = team.afterHours.rep;
    const rep = candidates.find((candidate) => candidate.id === onCall);
    return rep ? { kind: "rep", rep, tier } : undefined;
  }
  const starts = offShift
    .map((rep) => ({ rep, startsAt: nextWithinHours(rep.hours, rep.timezone, now) }))
    .filter((entry): entry is { rep: Rep; startsAt: Date } => entry.startsAt !== undefined)
    .sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  const first = starts[0];
  return first ? { kind: "rep", rep: first.rep, tier, startsAt: first.startsAt } : undefined;
}
