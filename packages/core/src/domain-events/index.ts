import { z } from "zod";
import { LeadArrivedEventSchema, LeadHotEventSchema, LeadMarketingQualifiedEventSchema } from "../leads/lead-events.ts";

export { eventEnvelope } from "./envelope.ts";

/**
 * Every domain event, told apart by `type`. Each is declared next to its domain (a zod schema
 * extending `eventEnvelope`) and listed here. They are published to one SNS topic with `type` as
 * a message attribute; each consumer's queue subscribes to the types it needs
 * (`subscriptions` in packages/manifest) and receives the event JSON as its message body.
 */
export const DomainEventSchema = z.discriminatedUnion("type", [
  LeadHotEventSchema,
  LeadMarketingQualifiedEventSchema,
  LeadArrivedEventSchema,
]);
export type DomainEvent = z.infer<typeof DomainEventSchema>;
export type DomainEventType = DomainEvent["type"];
export type DomainEventOf<Type extends DomainEventType> = Extract<DomainEvent, { type: Type }>;

export const domainEventTypes = DomainEventSchema.options.map((option) => option.shape.type.value) as DomainEventType[];

/** Where domain events go (the topic); consumers tell repeats apart by the event id. */
export interface DomainEventPublisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}
