import { z } from "zod";
import { eventEnvelope } from "../domain-events/envelope.ts";
import { type Qualification, temperatures } from "../scoring/qualify.ts";
import type { Lead, LeadSource } from "./lead.ts";
import { stages } from "./stages.ts";

/** The lead as scoring saw it when the event happened. */
const qualificationSnapshot = {
  score: z.object({ fit: z.number(), engagement: z.number(), total: z.number() }),
  temperature: z.enum(temperatures),
  stage: z.enum(stages),
  configVersion: z.string(),
};

/** The lead turned hot. */
export const LeadHotEventSchema = eventEnvelope.extend({
  type: z.literal("lead.hot"),
  ...qualificationSnapshot,
});

/** The lead turned marketing-qualified. */
export const LeadMarketingQualifiedEventSchema = eventEnvelope.extend({
  type: z.literal("lead.marketing-qualified"),
  ...qualificationSnapshot,
});

/** A lead was created from a source marked `alertOnArrival: true` in config/sources.yaml. */
export const LeadArrivedEventSchema = eventEnvelope.extend({
  type: z.literal("lead.arrived"),
  /** The source (config/sources.yaml) whose delivery created the lead. */
  source: z.string().min(1),
  /** A platform's test lead (Google Ads `is_test`). */
  test: z.boolean(),
  ...qualificationSnapshot,
});

/** What scoring signals: a lead turned hot or marketing-qualified. */
export const LeadSignalSchema = z.discriminatedUnion("type", [LeadHotEventSchema, LeadMarketingQualifiedEventSchema]);
export type LeadSignal = z.infer<typeof LeadSignalSchema>;
export type LeadArrivedEvent = z.infer<typeof LeadArrivedEventSchema>;

/** The `lead.arrived` event of a lead its first delivery has just created (version 1). */
export function leadArrived(lead: Lead, source: LeadSource, qualification: Qualification): LeadArrivedEvent {
  return {
    id: `${lead.id}:lead.arrived:${lead.version}`,
    type: "lead.arrived",
    leadId: lead.id,
    at: lead.createdAt,
    source: source.source,
    test: source.test,
    score: qualification.score,
    temperature: qualification.temperature,
    stage: qualification.stage,
    configVersion: qualification.configVersion,
  };
}
