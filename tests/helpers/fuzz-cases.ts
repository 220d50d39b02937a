/** Every kind of generated case, and how each becomes planned requests. */
import fc from "fast-check";
import {
  eventsSpec,
  getLeadSpec,
  handshakeSpec,
  healthSpec,
  lookupSpec,
  noRouteSpec,
  planEvents,
  planGetLead,
  planHandshake,
  planHealth,
  planLookup,
  planNoRoute,
} from "./fuzz-api.ts";
import type { PlannedCase } from "./fuzz-plan.ts";
import {
  type FuzzSecrets,
  formSpec,
  googleSpec,
  metaSpec,
  personSpec,
  planForm,
  planGoogle,
  planMeta,
  planPerson,
} from "./fuzz-webhooks.ts";

/** Every kind of case, weighted towards the webhooks, where leads can be lost or doubled. */
export const caseSpec = fc.oneof(
  { weight: 30, arbitrary: formSpec },
  { weight: 14, arbitrary: googleSpec },
  { weight: 12, arbitrary: metaSpec },
  { weight: 8, arbitrary: personSpec },
  { weight: 4, arbitrary: handshakeSpec },
  { weight: 5, arbitrary: lookupSpec },
  { weight: 5, arbitrary: getLeadSpec },
  { weight: 14, arbitrary: eventsSpec },
  { weight: 2, arbitrary: healthSpec },
  { weight: 2, arbitrary: noRouteSpec },
);
export type CaseSpec = typeof caseSpec extends fc.Arbitrary<infer T> ? T : never;

/** Each case gets ten consecutive indexes, for the several leads of one Meta delivery. */
const indexesPerCase = 10;

export function planCase(spec: CaseSpec, run: string, index: number, secrets: FuzzSecrets): PlannedCase {
  const tag = { run, index: index * indexesPerCase };
  switch (spec.kind) {
    case "form":
      return planForm(spec, tag, secrets);
    case "google":
      return planGoogle(spec, tag, secrets);
    case "meta":
      return planMeta(spec, tag, secrets);
    case "person":
      return planPerson(spec, tag, secrets);
    case "handshake":
      return planHandshake(spec, tag, secrets);
    case "lookup":
      return planLookup(spec, tag, secrets);
    case "get":
      return planGetLead(spec, tag, secrets);
    case "events":
      return planEvents(spec, tag, secrets);
    case "health":
      return planHealth();
    case "no-route":
      return planNoRoute(spec);
  }
}
