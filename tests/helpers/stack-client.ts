import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { LeadView } from "@leadflow/core";
import { dynamoClient, sqsClient } from "@leadflow/local";
import { createEntities } from "@leadflow/store";
import { inject } from "vitest";
import type { Delivery } from "./platforms.ts";
import { testSecrets } from "./secrets.ts";
import { waitFor } from "./wait.ts";

/** Talks to the local stack of the e2e suite over HTTP, as a platform or an admin would. */
export function stackClient() {
  const stack = inject("stack");
  const sqs = sqsClient(stack.sqsEndpoint);
  const admin = { "x-api-key": testSecrets.ADMIN_API_KEY };

  async function queueDepth(url: string): Promise<number> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  }

  return {
    stack,
    url: stack.url,

    async send(delivery: Delivery) {
      const response = await fetch(`${stack.url}${delivery.path}`, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },

    get: (path: string, headers: Record<string, string> = admin) => fetch(`${stack.url}${path}`, { headers }),

    async leadsByEmail(email: string): Promise<LeadView[]> {
      const response = await fetch(`${stack.url}/leads?email=${encodeURIComponent(email)}`, { headers: admin });
      if (!response.ok) throw new Error(`GET /leads answered ${response.status}`);
      return ((await response.json()) as { items: LeadView[] }).items;
    },

    /** Resolves once the capture queue is empty: everything accepted has been handled. */
    async drained(timeoutMs = 60_000): Promise<void> {
      await waitFor(
        async () => (await queueDepth(stack.queues.capture.url)) === 0,
        timeoutMs,
        "the capture queue to drain",
      );
    },

    deadLetterDepth: () => queueDepth(stack.queues.capture.deadLetterUrl),

    /** Messages waiting or in flight on a queue. */
    queueDepth,

    /**
     * `POST /leads/{id}/events` as an admin; a string body is sent as it is, anything else as JSON.
     * A header given as undefined is left out.
     */
    async postEvents(leadId: string, body: unknown, headers: Record<string, string | undefined> = {}) {
      const merged = { ...admin, "content-type": "application/json", ...headers };
      const response = await fetch(`${stack.url}/leads/${encodeURIComponent(leadId)}/events`, {
        method: "POST",
        headers: Object.fromEntries(
          Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
        ),
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },

    /** `GET /leads/{id}` as an admin. */
    async leadById(id: string): Promise<LeadView> {
      const response = await fetch(`${stack.url}/leads/${encodeURIComponent(id)}`, { headers: admin });
      if (!response.ok) throw new Error(`GET /leads/${id} answered ${response.status}`);
      return (await response.json()) as LeadView;
    },

    /** Resolves once the events queue is empty: every accepted event has been scored. */
    async eventsDrained(timeoutMs = 60_000): Promise<void> {
      await waitFor(
        async () => (await queueDepth(stack.queues.events.url)) === 0,
        timeoutMs,
        "the events queue to drain",
      );
    },

    /** Every lead in the table (a scan: for tests only). */
    async leadCount(): Promise<number> {
      const { lead } = createEntities(dynamoClient(stack.dynamodbEndpoint), stack.tableName);
      return (await lead.scan.go({ pages: "all", attributes: ["leadId"] })).data.length;
    },
  };
}
