import { randomUUID } from "node:crypto";
import { claimEscalation, DomainEventSchema } from "@leadflow/core";
import { logger, queueConsumer, speedToLeadDependencies, startSpeedToLead } from "@leadflow/lambda";

/**
 * The speed-to-lead subscription (lead.hot, lead.marketing-qualified, lead.arrived): starts the
 * lead's escalation workflow unless one runs, the lead has an owner, or the event is old.
 */
export const handler = queueConsumer({
  schema: DomainEventSchema,
  sequenceKey: (event) => event.leadId,
  async handle(event) {
    const { leadId } = event;
    if (event.type === "lead.arrived" && event.test) return logger.info("Test lead: no alert", { leadId });
    const decision = await claimEscalation(speedToLeadDependencies(), event, randomUUID);
    if (!decision.start) return logger.info("No escalation started", { leadId, reason: decision.reason });
    await startSpeedToLead(decision.escalationId, { leadId, escalationId: decision.escalationId });
    logger.info("Escalation started", { leadId, escalationId: decision.escalationId, trigger: event.type });
  },
});
