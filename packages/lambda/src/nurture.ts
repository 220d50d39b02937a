import { clock, type DueStep, DueStepSchema, type NurtureDependencies } from "@leadflow/core";
import { environmentNames } from "@leadflow/manifest";
import { createNurtureStore } from "@leadflow/store";
import { clients } from "./clients.ts";
import { config, leadStore } from "./composition.ts";
import { once, perConfig } from "./once.ts";
import { outboundSender, publicUrl } from "./outbound.ts";
import { requiredSetting, setting } from "./settings.ts";
import { queueSender } from "./sqs.ts";

/** Enrolments, sequence versions, suppressions, contact logs and unsubscribe tokens in the table. */
export const nurtureStore = once(() =>
  createNurtureStore({ client: clients.dynamodb(), tableName: requiredSetting(environmentNames.tableName) }),
);

/**
 * What nurture needs. Each part is built when first used, so a handler touches only what its
 * manifest entry gives it (the step tick sends no email, the unsubscribe page no message).
 */
export const nurtureDependencies = perConfig((): NurtureDependencies => {
  const { sequences, routing } = config();
  const contacts = new Map(
    [...routing.teams.values()].flatMap((team) => [team.manager, ...team.reps].map((person) => [person.id, person])),
  );
  return {
    leads: {
      getLead: (id) => leadStore().getLead(id),
      listEvents: (id) => leadStore().listEvents(id),
      coldLeads: (after, upTo) => leadStore().coldLeads(after, upTo),
    },
    get store() {
      return nurtureStore();
    },
    sequences,
    send: (messages) => outboundSender()(messages),
    async unsubscribeLink(leadId, email) {
      const token = await nurtureStore().createUnsubscribeToken(leadId, email.toLowerCase(), clock.nowIso());
      return { token, url: `${await publicUrl()}/unsubscribe/${token}` };
    },
    ownerOf(id) {
      const person = contacts.get(id);
      return (
        person && {
          id: person.id,
          name: person.name,
          email: person.email,
          ...(person.phone ? { phone: person.phone } : {}),
        }
      );
    },
    get accountZone() {
      return setting("NURTURE_ACCOUNT_TIMEZONE");
    },
    now: clock.now,
  };
});

/** Due steps go to the nurture queue, one message each, for the step worker. */
export const dueStepSender = once(() => {
  const send = queueSender(requiredSetting(environmentNames.queueUrl("nurture")), DueStepSchema);
  return (steps: readonly DueStep[]) => send(steps);
});
