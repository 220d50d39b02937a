import { z } from "zod";
import { parseYamlConfig } from "../config/yaml.ts";
import { type ConditionOperator, compileCondition, conditionSchema, type Predicate } from "../scoring/conditions.ts";
import { configVersion } from "../scoring/config.ts";
import { durationSchema, timeZoneSchema, type WeeklyHours, weeklyHoursSchema } from "../time.ts";

/** config/routing.yaml: who is alerted for which lead, how fast they must accept, who comes next. */

const personId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "lower-case letters, digits, - and _");
const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, "a phone number in E.164 form, e.g. +14155550101");

const remindSchema = z
  .union([z.string().regex(/^(\d{1,2})%$/, "a share of the SLA such as 50%"), durationSchema])
  .describe("when to remind: a share of the accept time (50%) or a duration (2m)");

const SlaSchema = z.strictObject({
  accept: durationSchema.describe("how long a rep has to accept before the next one is alerted"),
  remind: remindSchema.optional(),
  tiers: z.number().int().min(1).max(10).describe("reps tried before the team's manager"),
});

const ContactSchema = z.strictObject({
  id: personId,
  name: z.string().min(1).max(200),
  email: z.email(),
  phone: phone.optional(),
});

const RepSchema = ContactSchema.extend({
  timezone: timeZoneSchema.default("UTC"),
  hours: weeklyHoursSchema.default("always"),
  weight: z.number().int().min(1).max(100).default(1),
  dailyCap: z.number().int().min(1).optional().describe("leads alerted to this rep per day, in the rep's own zone"),
  active: z.boolean().default(true),
  outOfOfficeUntil: z.iso.date().optional().describe("away until this date (in the rep's zone): back on it"),
});

const AfterHoursSchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("hold") }),
  z.strictObject({ mode: z.literal("on-call"), rep: personId }),
]);

const TeamSchema = z.strictObject({
  strategy: z.literal("weighted-round-robin").default("weighted-round-robin"),
  sla: SlaSchema.partial().optional(),
  manager: ContactSchema,
  afterHours: AfterHoursSchema.default({ mode: "hold" }),
  reps: z.array(RepSchema).min(1),
});

/** What a rule may test: the lead's fields (as scoring's conditions), its score now, temperature and stage. */
export const routingFields = ["score", "temperature", "stage"] as const;
const routingField = z.union([
  z.enum(["firstName", "lastName", "company", "jobTitle", "country", "region", "city", "postalCode"]),
  z.enum(["email", "emailDomain", "phone", "source", ...routingFields]),
  z.string().regex(/^custom\.[A-Za-z0-9_.-]+$/, "a lead field, score, temperature, stage or custom.<name>"),
]);

const RuleSchema = z.strictObject({
  when: z.array(conditionSchema({ field: routingField })).default([]),
  team: z.string(),
});

const minutes = 60;
/** Nobody waits longer than this for someone to own a hot lead: the manager is alerted within it. */
export const maxEscalationSeconds = 60 * minutes;

export const RoutingConfigSchema = z
  .strictObject({
    from: z
      .strictObject({
        email: z
          .string()
          .min(3)
          .describe('who alerts come from, e.g. "leadflow <alerts@example.com>" (an SES identity)'),
        sms: phone.optional().describe("the number SMS alerts come from (an End User Messaging origination number)"),
      })
      .describe("the sender of alert emails and SMS"),
    sla: SlaSchema,
    teams: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes"), TeamSchema),
    rules: z.array(RuleSchema).min(1),
  })
  .superRefine((config, context) => {
    config.rules.forEach((rule, index) => {
      if (!(rule.team in config.teams))
        context.addIssue({ code: "custom", path: ["rules", index, "team"], message: `no team "${rule.team}"` });
    });
    for (const [name, team] of Object.entries(config.teams)) {
      const ids = new Set<string>();
      team.reps.forEach((rep, index) => {
        if (ids.has(rep.id))
          context.addIssue({ code: "custom", path: ["teams", name, "reps", index, "id"], message: "used twice" });
        ids.add(rep.id);
      });
      if (team.afterHours.mode === "on-call" && !ids.has(team.afterHours.rep))
        context.addIssue({
          code: "custom",
          path: ["teams", name, "afterHours", "rep"],
          message: `no rep "${team.afterHours.rep}" in this team`,
        });
      const sla = { ...config.sla, ...team.sla };
      const reachesManager = sla.accept * sla.tiers;
      if (reachesManager > maxEscalationSeconds)
        context.addIssue({
          code: "custom",
          path: team.sla ? ["teams", name, "sla"] : ["sla"],
          message: `the manager would be alerted after ${reachesManager / minutes} minutes (${sla.tiers} tiers × ${sla.accept / minutes} min); it must be within ${maxEscalationSeconds / minutes}`,
        });
      const remind = remindSeconds(sla.remind, sla.accept);
      if (remind !== undefined && remind >= sla.accept)
        context.addIssue({ code: "custom", path: ["sla", "remind"], message: "must come before the accept time ends" });
    }
  });
export type RoutingConfig = z.output<typeof RoutingConfigSchema>;

export interface Sla {
  acceptSeconds: number;
  /** Seconds after the alert at which the rep is reminded; none when not configured. */
  remindSeconds: number | undefined;
  tiers: number;
}

export interface Contact {
  id: string;
  name: string;
  email: string;
  phone: string | undefined;
}

export interface Rep extends Contact {
  timezone: string;
  hours: WeeklyHours | "always";
  weight: number;
  dailyCap: number | undefined;
  active: boolean;
  outOfOfficeUntil: string | undefined;
}

export interface Team {
  name: string;
  sla: Sla;
  manager: Contact;
  afterHours: { mode: "hold" } | { mode: "on-call"; rep: string };
  reps: Rep[];
  /** Reps in weighted round-robin order: each appears `weight` times, spread out. */
  slots: string[];
}

export interface RoutingRule {
  team: string;
  conditions: { field: string; test: Predicate }[];
}

/** config/routing.yaml, compiled. */
export interface RoutingModel {
  version: string;
  from: { email: string; sms: string | undefined };
  teams: ReadonlyMap<string, Team>;
  rules: RoutingRule[];
}

export function parseRouting(text: string, file = "config/routing.yaml"): RoutingModel {
  const config = parseYamlConfig(text, file, RoutingConfigSchema);
  return compileRouting(config, configVersion(text));
}

export function compileRouting(config: RoutingConfig, version: string): RoutingModel {
  const teams = new Map<string, Team>();
  for (const [name, team] of Object.entries(config.teams)) {
    const sla = { ...config.sla, ...team.sla };
    const reps = team.reps.map(({ phone: repPhone, outOfOfficeUntil, dailyCap, ...rep }) => ({
      ...rep,
      phone: repPhone,
      outOfOfficeUntil,
      dailyCap,
    }));
    teams.set(name, {
      name,
      sla: { acceptSeconds: sla.accept, remindSeconds: remindSeconds(sla.remind, sla.accept), tiers: sla.tiers },
      manager: { ...team.manager, phone: team.manager.phone },
      afterHours: team.afterHours,
      reps,
      slots: weightedSlots(reps),
    });
  }
  const rules = config.rules.map(({ team, when }) => ({
    team,
    conditions: when.map(({ field, ...condition }) => ({
      field,
      test: compileCondition(condition as ConditionOperator),
    })),
  }));
  return { version, from: { email: config.from.email, sms: config.from.sms }, teams, rules };
}

function remindSeconds(remind: string | number | undefined, acceptSeconds: number): number | undefined {
  if (remind === undefined) return undefined;
  if (typeof remind === "number") return remind;
  return Math.round((acceptSeconds * Number(remind.slice(0, -1))) / 100);
}

/**
 * Smooth weighted round-robin (as nginx does it): weights 2 and 1 give A, B, A rather than A, A,
 * B, so a rep with a bigger share still never gets every lead in a row.
 */
export function weightedSlots(reps: readonly { id: string; weight: number }[]): string[] {
  const total = reps.reduce((sum, rep) => sum + rep.weight, 0);
  const current = reps.map(() => 0);
  const slots: string[] = [];
  for (let slot = 0; slot < total; slot++) {
    let best = 0;
    reps.forEach((rep, index) => {
      current[index] = (current[index] as number) + rep.weight;
      if ((current[index] as number) > (current[best] as number)) best = index;
    });
    current[best] = (current[best] as number) - total;
    slots.push((reps[best] as { id: string }).id);
  }
  return slots;
}
