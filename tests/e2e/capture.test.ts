import { randomUUID } from "node:crypto";
import { dynamoClient } from "@leadflow/local";
import { createEntities } from "@leadflow/store";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { metaGraphControl } from "../helpers/meta-graph.ts";
import { type Delivery, formDelivery, googleAdsDelivery, graphLead, metaDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";
import { inParallel } from "../helpers/wait.ts";

const client = stackClient();
const graph = metaGraphControl(inject("stack").metaGraph);
const run = randomUUID().slice(0, 8);
const domain = `capture-${run}.example`;
const sourceNames = ["form", "meta", "google-ads"] as const;

interface Person {
  email: string;
  phone: string;
  firstName: string;
  lastName: string;
}

interface PlannedDelivery {
  person: Person;
  source: (typeof sourceNames)[number];
  platformLeadId: string;
  /** What the platform sends; called again for a retry (a form retry is signed anew, same id). */
  build: () => Delivery;
}

function personNumber(index: number): Person {
  return {
    email: `person-${index}@${domain}`,
    phone: `+1415${200 + index}${1000 + index}`,
    firstName: `First${index}`,
    lastName: `Last${index}`,
  };
}

function plan(person: Person, source: PlannedDelivery["source"], sequence: number): PlannedDelivery {
  const { email, phone, firstName, lastName } = person;
  if (source === "form") {
    const id = `msg_${run}_${sequence}`;
    const fields = { email, phone, first_name: firstName, last_name: lastName, utm_source: "e2e" };
    return {
      person,
      source,
      platformLeadId: id,
      build: () => formDelivery(fields, { secret: testSecrets.FORM_SIGNING_SECRET, id }),
    };
  }
  if (source === "meta") {
    const leadgenId = `9${String(Date.now()).slice(-9)}${String(sequence).padStart(7, "0")}`;
    const body = metaDelivery([{ leadgenId }], testSecrets.META_APP_SECRET);
    return { person, source, platformLeadId: leadgenId, build: () => body };
  }
  const leadId = `TeSter-${run}-${sequence}`;
  const columns = { FULL_NAME: `${firstName} ${lastName}`, EMAIL: email, PHONE_NUMBER: phone };
  const body = googleAdsDelivery({ leadId, key: testSecrets.GOOGLE_ADS_WEBHOOK_KEY, columns });
  return { person, source, platformLeadId: leadId, build: () => body };
}

describe("capturing 300 leads from three sources, with platform retries", () => {
  const people = Array.from({ length: 240 }, (_, index) => personNumber(index));
  // Every person arrives once; the first 60 arrive a second time from another source.
  const deliveries = [
    ...people.map((person, index) => plan(person, sourceNames[index % 3] as PlannedDelivery["source"], index)),
    ...people
      .slice(0, 60)
      .map((person, index) => plan(person, sourceNames[(index + 1) % 3] as PlannedDelivery["source"], 240 + index)),
  ];
  const retried = deliveries.filter((_, index) => index % 5 === 0);

  beforeAll(async () => {
    const metaLeads = deliveries.filter((delivery) => delivery.source === "meta");
    await graph.addLeads(
      Object.fromEntries(
        metaLeads.map(({ platformLeadId, person }) => [
          platformLeadId,
          graphLead(platformLeadId, {
            full_name: `${person.firstName} ${person.lastName}`,
            email: person.email,
            phone_number: person.phone,
          }),
        ]),
      ),
    );
  });

  it("acknowledges every delivery and retry, and stores exactly the unique people, each with all its sources", async () => {
    const deadLettersBefore = await client.deadLetterDepth();
    const requests = [...deliveries, ...retried].sort(() => Math.random() - 0.5);
    expect(requests).toHaveLength(360);
    const statuses = await inParallel(requests, 16, async (delivery) => (await client.send(delivery.build())).status);
    expect(statuses.filter((status) => status !== 200 && status !== 202)).toEqual([]);

    await client.drained();

    const entities = createEntities(dynamoClient(inject("stack").dynamodbEndpoint), inject("stack").tableName);
    const stored = (await entities.lead.scan.go({ pages: "all" })).data.filter((lead) => lead.email?.endsWith(domain));
    expect(stored).toHaveLength(240);

    for (const person of people) {
      const [lead, ...others] = await client.leadsByEmail(person.email);
      expect(others).toEqual([]);
      const expected = deliveries
        .filter((delivery) => delivery.person === person)
        .map(({ source, platformLeadId }) => ({ source, platformLeadId }));
      const got = lead?.sources.map(({ source, platformLeadId }) => ({ source, platformLeadId }));
      expect(got?.sort(bySource)).toEqual(expected.sort(bySource));
      expect(lead).toMatchObject({ phone: person.phone, firstName: person.firstName, lastName: person.lastName });
    }
    expect(await client.deadLetterDepth()).toBe(deadLettersBefore);

    // The same person found by phone, with the "+" written unencoded in the query string.
    const person = people[7] as Person;
    const byPhone = await client.get(`/leads?phone=${person.phone}`);
    const { items } = (await byPhone.json()) as { items: { email: string }[] };
    expect(items.map((lead) => lead.email)).toEqual([person.email]);
  });
});

function bySource(a: { source: string }, b: { source: string }) {
  return a.source.localeCompare(b.source);
}
