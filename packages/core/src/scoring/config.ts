import { createHash } from "node:crypto";
import { z } from "zod";
import { parseYamlConfig } from "../config/yaml.ts";
import { profileFields } from "../leads/fields.ts";
import { type ConditionOperator, compileCondition, conditionSchema, type Predicate } from "./conditions.ts";

/** Event types every deployment understands; `customEvents` in config/scoring.yaml adds more. */
export const builtInEventTypes = [
  "page_view",
  "form_submit",
  "demo_request",
  "meeting_booked",
  "email_open",
  "email_click",
  "reply",
  "webinar_attended",
] as const;

export const bantKeys = ["budget", "authority", "need", "timeline"] as const;
export type BantKey = (typeof bantKeys)[number];

/** What a fit rule or BANT entry may read from a lead; see docs/config-reference.md#scoring. */
export const derivedLeadFields = ["email", "emailDomain", "emailType", "phone", "source"] as const;
const leadField = z.union([
  z.enum([...profileFields, ...derivedLeadFields]),
  z.string().regex(/^custom\.[A-Za-z0-9_.-]+$/, "a lead field (e.g. jobTitle, emailType, source) or custom.<name>"),
]);
export type LeadFieldName = z.infer<typeof leadField>;

const ruleId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes");
const eventType = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "lower-case letters, digits and underscores");
const points = z.number().int().min(-1000).max(1000);
const cap = z.number().positive().max(10_000);

const FitRuleSchema = conditionSchema({
  id: ruleId,
  description: z.string().optional(),
  field: leadField,
  points,
});

const PropertyConditionSchema = conditionSchema({
  property: z.string().min(1).describe("a key of the event's properties, e.g. url"),
});

const EngagementRuleSchema = z.strictObject({
  id: ruleId,
  description: z.string().optional(),
  event: eventType.describe("the event type this rule scores"),
  where: z.array(PropertyConditionSchema).default([]).describe("conditions on the event's properties, all must hold"),
  points,
  cap: cap.optional().describe("the most this rule adds, however many events match"),
  group: z.string().optional().describe("a group of engagement.groups whose cap also applies"),
});

const BantEntrySchema = z.strictObject({
  fields: z.array(leadField).min(1).describe("where the answer is, first present wins"),
  qualifies: conditionSchema({}).optional().describe("which answers qualify; any answer when absent"),
});

const bantCount = z.number().int().min(1).max(4);
const TemperatureLevelSchema = z.strictObject({
  score: z.number().describe("this total score or more"),
  bant: bantCount.optional().describe("or this many qualifying BANT answers"),
});

export const ScoringConfigSchema = z
  .strictObject({
    fit: z.array(FitRuleSchema).default([]).describe("points for who the lead is"),
    engagement: z.strictObject({
      halfLifeDays: z.number().positive().describe("engagement points lose half their value in this many days"),
      groups: z.record(z.string(), z.strictObject({ cap })).default({}),
      rules: z.array(EngagementRuleSchema).default([]),
    }),
    customEvents: z.array(eventType).default([]).describe("event types accepted besides the built-in ones"),
    emailDomains: z
      .strictObject({ free: z.array(z.string().toLowerCase()).default([]) })
      .default({ free: [] })
      .describe("free-mail domains besides the built-in list"),
    bant: z
      .strictObject({
        budget: BantEntrySchema.optional(),
        authority: BantEntrySchema.optional(),
        need: BantEntrySchema.optional(),
        timeline: BantEntrySchema.optional(),
        freshForDays: z.number().positive().default(30).describe("how long a BANT answer counts for temperature"),
      })
      .default({ freshForDays: 30 }),
    temperature: z.strictObject({ warm: TemperatureLevelSchema, hot: TemperatureLevelSchema }),
    stages: z.strictObject({
      informationQualified: z.strictObject({
        bantAnswered: bantCount.describe("this many BANT questions answered on a form"),
      }),
      marketingQualified: z.strictObject({ score: z.number().describe("this total score or more") }),
    }),
  })
  .superRefine((config, context) => {
    const ids = new Set<string>();
    const known = new Set<string>([...builtInEventTypes, ...config.customEvents]);
    const checkId = (id: string, path: (string | number)[]) => {
      if (ids.has(id))
        context.addIssue({ code: "custom", path: [...path, "id"], message: `rule id "${id}" is used twice` });
      ids.add(id);
    };
    for (const [index, rule] of config.fit.entries()) checkId(rule.id, ["fit", index]);
    config.engagement.rules.forEach((rule, index) => {
      const path = ["engagement", "rules", index];
      checkId(rule.id, path);
      if (!known.has(rule.event))
        context.addIssue({
          code: "custom",
          path: [...path, "event"],
          message: `unknown event type "${rule.event}": use a built-in one or list it in customEvents`,
        });
      if (rule.group !== undefined && !(rule.group in config.engagement.groups))
        context.addIssue({
          code: "custom",
          path: [...path, "group"],
          message: `no group "${rule.group}" in engagement.groups`,
        });
    });
    const { warm, hot } = config.temperature;
    if (hot.score <= warm.score)
      context.addIssue({ code: "custom", path: ["temperature", "hot", "score"], message: "must be above warm.score" });
    if (hot.bant !== undefined && warm.bant !== undefined && hot.bant < warm.bant)
      context.addIssue({
        code: "custom",
        path: ["temperature", "hot", "bant"],
        message: "must not be below warm.bant",
      });
  });
export type ScoringConfig = z.output<typeof ScoringConfigSchema>;

export interface FitRule {
  id: string;
  description: string | undefined;
  field: LeadFieldName;
  points: number;
  test: Predicate;
}

export interface EngagementRule {
  id: string;
  description: string | undefined;
  event: string;
  points: number;
  cap: number | undefined;
  group: string | undefined;
  test: (properties: Readonly<Record<string, unknown>>) => boolean;
}

export interface BantQuestion {
  key: BantKey;
  fields: LeadFieldName[];
  qualifies: Predicate;
}

/** config/scoring.yaml, compiled: what scoring runs on. */
export interface ScoringModel {
  /** A digest of the file's text: history entries name the config that decided them. */
  version: string;
  config: ScoringConfig;
  fit: FitRule[];
  engagementRules: ReadonlyMap<string, EngagementRule>;
  rulesByEvent: ReadonlyMap<string, EngagementRule[]>;
  groupCaps: ReadonlyMap<string, number>;
  eventTypes: ReadonlySet<string>;
  bant: BantQuestion[];
  extraFreeDomains: ReadonlySet<string>;
}

export function parseScoring(text: string, file = "config/scoring.yaml"): ScoringModel {
  const config = parseYamlConfig(text, file, ScoringConfigSchema);
  return compileScoring(config, configVersion(text));
}

export function configVersion(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

export function compileScoring(config: ScoringConfig, version: string): ScoringModel {
  const engagementRules = config.engagement.rules.map(compileEngagementRule);
  const rulesByEvent = new Map<string, EngagementRule[]>();
  for (const rule of engagementRules) rulesByEvent.set(rule.event, [...(rulesByEvent.get(rule.event) ?? []), rule]);
  return {
    version,
    config,
    fit: config.fit.map(({ id, description, field, points, ...condition }) => ({
      id,
      description,
      field,
      points,
      test: compileCondition(condition as ConditionOperator),
    })),
    engagementRules: new Map(engagementRules.map((rule) => [rule.id, rule])),
    rulesByEvent,
    groupCaps: new Map(Object.entries(config.engagement.groups).map(([name, group]) => [name, group.cap])),
    eventTypes: new Set([...builtInEventTypes, ...config.customEvents]),
    bant: bantKeys.flatMap((key) => {
      const entry = config.bant[key];
      if (!entry) return [];
      const qualifies = entry.qualifies ? compileCondition(entry.qualifies as ConditionOperator) : () => true;
      return [{ key, fields: entry.fields, qualifies }];
    }),
    extraFreeDomains: new Set(config.emailDomains.free),
  };
}

function compileEngagementRule(rule: ScoringConfig["engagement"]["rules"][number]): EngagementRule {
  const conditions = rule.where.map(({ property, ...condition }) => ({
    property,
    test: compileCondition(condition as ConditionOperator),
  }));
  return {
    id: rule.id,
    description: rule.description,
    event: rule.event,
    points: rule.points,
    cap: rule.cap,
    group: rule.group,
    test: (properties) => conditions.every(({ property, test }) => test(propertyValues(properties[property]))),
  };
}

function propertyValues(value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  if (Array.isArray(value)) return value.flatMap(propertyValues);
  return typeof value === "object" ? [JSON.stringify(value)] : [String(value)];
}
