import type { EngagementRule, ScoringModel } from "./config.ts";

/**
 * Engagement is kept per rule as one decaying value: exponential decay lets a rule's points be
 * folded in one event at a time, so scoring costs the same whether a lead has 10 events or 10,000.
 * A rule's value never passes its cap; a group's cap bounds the sum of its rules.
 */
export interface RuleValue {
  /** Points as of `asOf` (epoch ms), after decay and cap. */
  value: number;
  asOf: number;
  /** Events this rule has scored. */
  count: number;
}

export type EngagementState = Record<string, RuleValue>;

/** A behaviour event as stored: the client's id, type, time and properties. */
export interface BehaviourEvent {
  id: string;
  type: string;
  at: string;
  properties: Record<string, unknown>;
}

export interface RulePoints {
  rule: string;
  points: number;
}

const dayMs = 24 * 60 * 60 * 1000;

export function decayFactor(fromMs: number, toMs: number, halfLifeDays: number): number {
  return 0.5 ** ((toMs - fromMs) / dayMs / halfLifeDays);
}

/**
 * Adds one event's points to the rules it matches and returns them. An event older than a rule's
 * value (events can arrive out of order) is added already decayed to the value's time.
 */
export function foldEvent(state: EngagementState, event: BehaviourEvent, model: ScoringModel): RulePoints[] {
  const rules = model.rulesByEvent.get(event.type);
  if (!rules) return [];
  const at = Date.parse(event.at);
  const halfLife = model.config.engagement.halfLifeDays;
  const scored: RulePoints[] = [];
  for (const rule of rules) {
    if (!rule.test(event.properties)) continue;
    const current = state[rule.id];
    const asOf = Math.max(at, current?.asOf ?? at);
    const carried = current ? current.value * decayFactor(current.asOf, asOf, halfLife) : 0;
    const added = rule.points * decayFactor(at, asOf, halfLife);
    state[rule.id] = { value: capped(carried + added, rule.cap), asOf, count: (current?.count ?? 0) + 1 };
    scored.push({ rule: rule.id, points: rule.points });
  }
  return scored;
}

/** Engagement from scratch: every event in time order. */
export function foldEvents(events: readonly BehaviourEvent[], model: ScoringModel): EngagementState {
  const state: EngagementState = {};
  const ordered = [...events].sort((a, b) => a.at.localeCompare(b.at));
  for (const event of ordered) foldEvent(state, event, model);
  return state;
}

/** Each rule's points at `now`, after decay, rule caps and group caps; rules of unknown ids are dropped. */
export function engagementAt(state: EngagementState, model: ScoringModel, now: number): RulePoints[] {
  const halfLife = model.config.engagement.halfLifeDays;
  const byGroup = new Map<string | undefined, { rule: EngagementRule; points: number }[]>();
  for (const [id, { value, asOf }] of Object.entries(state)) {
    const rule = model.engagementRules.get(id);
    if (!rule) continue;
    const points = capped(value * decayFactor(asOf, Math.max(now, asOf), halfLife), rule.cap);
    byGroup.set(rule.group, [...(byGroup.get(rule.group) ?? []), { rule, points }]);
  }
  const result: RulePoints[] = [];
  for (const [group, members] of byGroup) {
    const cap = group === undefined ? undefined : model.groupCaps.get(group);
    const sum = members.reduce((total, member) => total + member.points, 0);
    // Over its group's cap, each rule keeps its share of the cap.
    const scale = cap !== undefined && Math.abs(sum) > cap ? cap / Math.abs(sum) : 1;
    for (const { rule, points } of members) result.push({ rule: rule.id, points: points * scale });
  }
  return result;
}

function capped(value: number, cap: number | undefined): number {
  return cap === undefined ? value : Math.max(-cap, Math.min(cap, value));
}
