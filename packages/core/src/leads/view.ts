import type { ScoringModel } from "../scoring/config.ts";
import { initialQualification, scoreAt } from "../scoring/qualify.ts";
import type { HistoryEntry } from "./history.ts";
import type { Lead, LeadSource } from "./lead.ts";

const topRuleCount = 5;

/** The lead as the admin API shows it, scored as of `now` (engagement decays between writes). */
export function toLeadView(lead: Lead, history: readonly HistoryEntry[], model: ScoringModel, now: Date) {
  const { version: _version, id, sources, qualification: stored, pending: _pending, ...fields } = lead;
  const ordered = [...sources].sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  const qualification = stored ?? initialQualification(lead.createdAt, model.version);
  const { score, temperature, engagementRules } = scoreAt(qualification, model, now.getTime());
  return {
    id,
    score,
    temperature: temperature.level,
    temperatureReason: temperature.because,
    stage: qualification.stage,
    stageSince: qualification.stageSince,
    topRules: topRules(qualification.fitRules, engagementRules, model),
    bant: qualification.bant,
    scoredWith: qualification.configVersion || null,
    ...fields,
    sources: ordered,
    firstSource: ordered.at(0) && sourceSummary(ordered[0] as LeadSource),
    latestSource: ordered.at(-1) && sourceSummary(ordered.at(-1) as LeadSource),
    test: ordered.length > 0 && ordered.every((source) => source.test),
    history: history.map(({ leadId: _leadId, ...entry }) => entry),
  };
}

export type LeadView = ReturnType<typeof toLeadView>;

/** The rules that weigh most in the score now, either way. */
function topRules(
  fitRules: readonly { rule: string; points: number }[],
  engagementRules: readonly { rule: string; points: number }[],
  model: ScoringModel,
) {
  const descriptions = new Map<string, string | undefined>([
    ...model.fit.map((rule) => [rule.id, rule.description] as const),
    ...[...model.engagementRules.values()].map((rule) => [rule.id, rule.description] as const),
  ]);
  return [
    ...fitRules.map(({ rule, points }) => ({ rule, kind: "fit" as const, points })),
    ...engagementRules.map(({ rule, points }) => ({ rule, kind: "engagement" as const, points: round(points) })),
  ]
    .filter(({ points }) => points !== 0)
    .sort((a, b) => Math.abs(b.points) - Math.abs(a.points))
    .slice(0, topRuleCount)
    .map((entry) => ({ ...entry, description: descriptions.get(entry.rule) ?? null }));
}

function round(points: number): number {
  return Math.round(points * 10) / 10;
}

function sourceSummary({ source, platformLeadId, receivedAt, test }: LeadSource) {
  return { source, platformLeadId, receivedAt, test };
}
