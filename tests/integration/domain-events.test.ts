import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  type SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { type DomainEvent, DomainEventSchema } from "@leadflow/core";
import { topicPublisher } from "@leadflow/lambda";
import { ensureEventTopic, snsClient, sqsClient } from "@leadflow/local";
import { type QueueName, subscriptions } from "@leadflow/manifest";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { freshTopic, subscribeQueue } from "../helpers/sns.ts";
import { freshQueue, queueCounts, receiveAsEvent, type TestQueue } from "../helpers/sqs.ts";

let sns: SNSClient;
let sqs: SQSClient;

beforeAll(() => {
  const endpoint = inject("emulators").sqs;
  sns = snsClient(endpoint);
  sqs = sqsClient(endpoint);
  // What a publishing function has in its environment (the topic's ARN comes with each publisher).
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_SNS: endpoint,
  });
});

const snapshot = {
  score: { fit: 40, engagement: 35, total: 75 },
  temperature: "hot",
  stage: "marketing-qualified",
  configVersion: "0123456789ab",
} as const;

function hot(leadId: string): DomainEvent {
  return { id: `${leadId}:lead.hot:3`, type: "lead.hot", leadId, at: "2026-11-24T10:00:00.000Z", ...snapshot };
}

function arrived(leadId: string): DomainEvent {
  return {
    id: `${leadId}:lead.arrived:1`,
    type: "lead.arrived",
    leadId,
    at: "2026-11-24T09:00:00.000Z",
    source: "partner-form",
    test: false,
    ...snapshot,
  };
}

function publisherTo(topicArn: string) {
  return topicPublisher(topicArn, DomainEventSchema);
}

/** The messages a queue holds: their bodies, parsed (the event itself, not an SNS envelope), and `type` attribute. */
async function received(queue: TestQueue, count: number) {
  const { Records } = await receiveAsEvent(sqs, queue, count, 3);
  return Records.map((record) => ({
    body: JSON.parse(record.body) as unknown,
    type: record.messageAttributes.type?.stringValue,
  }));
}

describe("domain events on the topic", () => {
  it("reach only the queues subscribed to their type, as the event's JSON with its type attribute", async () => {
    const topicArn = await freshTopic(sns);
    const [hotQueue, arrivals, unsubscribed] = await Promise.all([freshQueue(sqs), freshQueue(sqs), freshQueue(sqs)]);
    await subscribeQueue(sns, topicArn, hotQueue, ["lead.hot", "lead.marketing-qualified"]);
    await subscribeQueue(sns, topicArn, arrivals, ["lead.arrived"]);

    await publisherTo(topicArn)([hot("lead-1"), arrived("lead-2")]);

    expect(await received(hotQueue, 2)).toEqual([{ body: hot("lead-1"), type: "lead.hot" }]);
    expect(await received(arrivals, 2)).toEqual([{ body: arrived("lead-2"), type: "lead.arrived" }]);
    expect(await queueCounts(sqs, unsubscribed)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("publishes more than a batch of SNS's 10 at once, every event delivered", async () => {
    const topicArn = await freshTopic(sns);
    const queue = await freshQueue(sqs);
    await subscribeQueue(sns, topicArn, queue, ["lead.hot"]);
    const events = Array.from({ length: 23 }, (_, index) => hot(`lead-${index}`));

    await publisherTo(topicArn)(events);

    const bodies = (await received(queue, 23)).map(({ body }) => body as DomainEvent);
    expect(bodies.map(({ id }) => id).sort()).toEqual(events.map(({ id }) => id).sort());
  });

  it("refuses an event that is not a domain event before anything is published", async () => {
    const topicArn = await freshTopic(sns);
    const queue = await freshQueue(sqs);
    await subscribeQueue(sns, topicArn, queue, ["lead.hot"]);
    const broken = { ...hot("lead-9"), temperature: "boiling" } as unknown as DomainEvent;

    await expect(publisherTo(topicArn)([hot("lead-8"), broken])).rejects.toThrow(/temperature/);
    expect(await queueCounts(sqs, queue)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe("the local topic and its subscriptions (ensureEventTopic)", () => {
  async function manifestQueues() {
    const entries = await Promise.all(
      (["capture", "events", "qualified"] as const).map(async (name) => {
        const queue = await freshQueue(sqs);
        return [name, { url: queue.url, arn: queue.arn, deadLetterUrl: queue.url }] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<QueueName, { url: string; arn: string; deadLetterUrl: string }>;
  }

  async function subscriptionsOf(topicArn: string) {
    const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    return Promise.all(
      Subscriptions.map(async ({ SubscriptionArn, Endpoint }) => {
        const { Attributes = {} } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));
        return { endpoint: Endpoint, raw: Attributes.RawMessageDelivery, filter: Attributes.FilterPolicy };
      }),
    );
  }

  it("subscribes each manifest subscription's queue, and on a later start brings them back to the manifest", async () => {
    const queues = await manifestQueues();
    const expected = Object.entries(subscriptions).map(([name, { eventTypes }]) => ({
      endpoint: queues[name as QueueName].arn,
      raw: "true",
      filter: JSON.stringify({ type: eventTypes }),
    }));

    const topicArn = await ensureEventTopic(sns, queues);
    expect(await subscriptionsOf(topicArn)).toEqual(expected);

    // As kept by an earlier run (--data): a filter since changed, a queue no longer subscribed.
    const [first] = (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions ?? [];
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: first?.SubscriptionArn,
        AttributeName: "FilterPolicy",
        AttributeValue: JSON.stringify({ type: ["lead.hot"] }),
      }),
    );
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queues.capture.arn }));

    expect(await ensureEventTopic(sns, queues)).toBe(topicArn);
    expect(await subscriptionsOf(topicArn)).toEqual(expected);
  });
});
