import { isCompanyDomain } from "company-email-validator";
import type { ProfileField } from "../leads/fields.ts";
import type { HistoryEntry } from "../leads/history.ts";
import type { Lead } from "../leads/lead.ts";
import type { LeadSignal } from "../leads/lead-events.ts";
import { clipText, leadLimits } from "../leads/limits.ts";
import { type Stage, transition } from "../leads/stages.ts";
import type { BantKey, LeadFieldName, ScoringModel } from "./config.ts";
import { type EngagementState, engagementAt, type RulePoints } from "./engagement.ts";

export const temperatures = ["cold", "warm", "hot"] as const;
export type Temperature = (typeof temperatures)[number];

export interface Score {
  fit: number;
  engagement: number;
  total: number;
}

export interface BantAnswer {
  answer: string;
  qualifies: boolean;
  /** When this answer was first seen: it counts for temperature for `bant.freshForDays`. */
  since: string;
}

/** Everything scoring knows about a lead, kept on the lead item. */
export interface Qualification {
  configVersion: string;
  fitRules: RulePoints[];
  engagement: EngagementState;
  bant: Partial<Record<BantKey, BantAnswer>>;
  /** As of `scoredAt`; reads recompute it for their own time (decay). */
  score: Score;
  scoredAt: string;
  temperature: Temperature;
  temperatureSince: string;
  stage: Stage;
  stageSince: string;
  /** Ids of the newest events applied, so a retried event is not counted twice. */
  recentEventIds: string[];
  /** When the temperature drops next if nothing happens; the daily refresh reads leads due. */
  coolsAt?: string;
}

export type QualifyCause =
  | { kind: "capture"; source: string; platformLeadId: string }
  | { kind: "events"; eventIds: string[] }
  | { kind: "decay" }
  | { kind: "rescore"; previousVersion: string | undefined };

export interface QualifyContext {
  now: string;
  /** The version the lead will have once saved: history and signal ids are built from it. */
  version: number;
  cause: QualifyCause;
  /** The engagement to score with, when events changed it; the lead's own otherwise. */
  engagement?: EngagementState;
}

export interface Qualified {
  qualification: Qualification;
  history: HistoryEntry[];
  signals: LeadSignal[];
}

const hourMs = 60 * 60 * 1000;
const dayMs = 24 * hourMs;
/** How far ahead cooling is looked for; a lead that stays warm longer is re-checked by rescore. */
const coolingHorizonDays = 365;

export function initialQualification(now: string, configVersion = ""): Qualification {
  return {
    configVersion,
    fitRules: [],
    engagement: {},
    bant: {},
    score: { fit: 0, engagement: 0, total: 0 },
    scoredAt: now,
    temperature: "cold",
    temperatureSince: now,
    stage: "new",
    stageSince: now,
    recentEventIds: [],
  };
}

/** Scores the lead at `now` and moves temperature and stage; each change comes with its reason. */
export function qualify(lead: Lead, model: ScoringModel, context: QualifyContext): Qualified {
  const { now } = context;
  const previous = lead.qualification ?? initialQualification(lead.createdAt);
  const nowMs = Date.parse(now);
  const engagement = context.engagement ?? previous.engagement;
  const fitRules = evaluateFit(lead, model);
  const bant = evaluateBant(lead, model, previous.bant, now);
  const score = scoreOf(fitRules, engagementAt(engagement, model, nowMs));
  const temperature = temperatureOf(score, bant, model, nowMs);

  const history: HistoryEntry[] = [];
  const signals: LeadSignal[] = [];
  const entry = (type: HistoryEntry["type"], summary: string, details: Record<string, unknown>, suffix = "") =>
    history.push({
      leadId: lead.id,
      id: `${type}:${context.version}${suffix}`,
      at: now,
      type,
      summary,
      details: { ...details, cause: context.cause, configVersion: model.version },
    });

  if (score.fit !== previous.score.fit && context.cause.kind !== "events") {
    entry("score.changed", `Fit score ${previous.score.fit} → ${score.fit}${describePoints(fitRules)}`, {
      before: previous.score,
      after: score,
      fitRules,
    });
  }

  let stage = previous.stage;
  const moveStage = (to: Stage, because: string) => {
    const from = stage;
    stage = transition(from, to, "scoring");
    entry("stage.changed", `Stage ${from} → ${to}: ${because}`, { from, to, because, score }, `:${to}`);
  };
  const answered = Object.values(bant).filter(Boolean).length;
  const { informationQualified, marketingQualified } = model.config.stages;
  if ((stage === "new" || stage === "recycled") && answered >= informationQualified.bantAnswered) {
    moveStage("information-qualified", `${answered} BANT question(s) answered on a form`);
  }
  if (
    (stage === "new" || stage === "information-qualified" || stage === "recycled") &&
    score.total >= marketingQualified.score
  ) {
    moveStage("marketing-qualified", `score ${score.total} ≥ ${marketingQualified.score} (MQL threshold)`);
  }

  if (temperature.level !== previous.temperature) {
    entry(
      "temperature.changed",
      `${capitalized(previous.temperature)} → ${temperature.level}: ${temperature.because}`,
      { from: previous.temperature, to: temperature.level, because: temperature.because, score },
    );
  }

  const qualification: Qualification = {
    configVersion: model.version,
    fitRules,
    engagement,
    bant,
    score,
    scoredAt: now,
    temperature: temperature.level,
    temperatureSince: temperature.level === previous.temperature ? previous.temperatureSince : now,
    stage,
    stageSince: stage === previous.stage ? previous.stageSince : now,
    recentEventIds: previous.recentEventIds,
  };
  const coolsAt = nextCooling(qualification, model, nowMs);
  if (coolsAt) qualification.coolsAt = coolsAt;

  const signal = (type: LeadSignal["type"]) =>
    signals.push({
      id: `${lead.id}:${type}:${context.version}`,
      type,
      leadId: lead.id,
      at: now,
      score,
      temperature: temperature.level,
      stage,
      configVersion: model.version,
    });
  if (temperature.level === "hot" && previous.temperature !== "hot") signal("lead.hot");
  if (stage === "marketing-qualified" && previous.stage !== "marketing-qualified") signal("lead.marketing-qualified");
  return { qualification, history, signals };
}

/** The score, temperature and top rules as of `now` (decay applied), for reading. */
export function scoreAt(qualification: Qualification, model: ScoringModel, now: number) {
  const engagementRules = engagementAt(qualification.engagement, model, now);
  const score = scoreOf(qualification.fitRules, engagementRules);
  const temperature = temperatureOf(score, qualification.bant, model, now);
  return { score, temperature, engagementRules };
}

export function evaluateFit(lead: Lead, model: ScoringModel): RulePoints[] {
  return model.fit
    .filter((rule) => rule.test(leadFieldValues(lead, rule.field, model)))
    .map((rule) => ({ rule: rule.id, points: rule.points }));
}

/** The values a fit rule or BANT entry sees for a lead field; several for sources and emails. */
export function leadFieldValues(lead: Lead, field: LeadFieldName, model: ScoringModel): string[] {
  const present = (values: (string | undefined)[]) => values.filter((value): value is string => !!value);
  switch (field) {
    case "email":
      return lead.emails;
    case "phone":
      return lead.phones;
    case "emailDomain":
      return lead.emails.map(domainOf);
    case "emailType": {
      const domains = lead.emails.map(domainOf);
      if (domains.length === 0) return [];
      return [domains.some((domain) => !isFreeDomain(domain, model)) ? "business" : "free"];
    }
    case "source":
      return [...new Set(lead.sources.map((source) => source.source))];
    default:
      if (field.startsWith("custom.")) return present([lead.custom[field.slice("custom.".length)]]);
      return present([lead[field as ProfileField]]);
  }
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf("@") + 1);
}

function isFreeDomain(domain: string, model: ScoringModel): boolean {
  return model.extraFreeDomains.has(domain) || !isCompanyDomain(domain);
}

function evaluateBant(
  lead: Lead,
  model: ScoringModel,
  previous: Qualification["bant"],
  now: string,
): Qualification["bant"] {
  const bant: Qualification["bant"] = {};
  for (const question of model.bant) {
    const answer = question.fields.flatMap((field) => leadFieldValues(lead, field, model))[0];
    if (answer === undefined) continue;
    const before = previous[question.key];
    const stored = clipText(answer, leadLimits.bantAnswerLength);
    const since = before?.answer === stored ? before.since : now;
    bant[question.key] = { answer: stored, qualifies: question.qualifies([answer]), since };
  }
  return bant;
}

function scoreOf(fitRules: readonly RulePoints[], engagementRules: readonly RulePoints[]): Score {
  const fit = Math.round(fitRules.reduce((sum, { points }) => sum + points, 0));
  const engagement = Math.round(engagementRules.reduce((sum, { points }) => sum + points, 0));
  return { fit, engagement, total: fit + engagement };
}

function temperatureOf(
  score: Score,
  bant: Qualification["bant"],
  model: ScoringModel,
  now: number,
): { level: Temperature; because: string } {
  const freshMs = model.config.bant.freshForDays * dayMs;
  const qualifying = Object.values(bant).filter(
    (answer) => answer?.qualifies && now - Date.parse(answer.since) < freshMs,
  ).length;
  for (const level of ["hot", "warm"] as const) {
    const threshold = model.config.temperature[level];
    if (score.total >= threshold.score)
      return { level, because: `score ${score.total} ≥ ${threshold.score} (${level} threshold)` };
    if (threshold.bant !== undefined && qualifying >= threshold.bant)
      return { level, because: `${qualifying} qualifying BANT answers ≥ ${threshold.bant} (${level} threshold)` };
  }
  const warm = model.config.temperature.warm.score;
  return { level: "cold", because: `score ${score.total} < ${warm} (warm threshold)` };
}

/**
 * The first hour at which, with no new event, decay or stale BANT answers lower the temperature:
 * a binary search, as temperature only falls with time (engagement rules with negative points,
 * which rise back toward zero, are the exception this accepts). A lead that does not cool within
 * the horizon is due for a look then, so it never drops out of the cooling index.
 */
function nextCooling(qualification: Qualification, model: ScoringModel, now: number): string | undefined {
  if (qualification.temperature === "cold") return undefined;
  const rank = temperatures.indexOf(qualification.temperature);
  const cooledBy = (hour: number) =>
    temperatures.indexOf(scoreAt(qualification, model, now + hour * hourMs).temperature.level) < rank;
  const horizonHours = coolingHorizonDays * 24;
  if (!cooledBy(horizonHours)) return new Date(now + horizonHours * hourMs).toISOString();
  let low = 0;
  let high = horizonHours;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (cooledBy(middle)) high = middle;
    else low = middle;
  }
  return new Date(now + high * hourMs).toISOString();
}

function describePoints(rules: readonly RulePoints[]): string {
  if (rules.length === 0) return "";
  return `: ${rules.map(({ rule, points }) => `${rule} ${points >= 0 ? "+" : ""}${points}`).join(", ")}`;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
