import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { sqsClient } from "@leadflow/local";
import { describe, expect, inject, it } from "vitest";
import { metaGraphControl } from "../helpers/meta-graph.ts";
import { graphLead, metaDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";
import { waitFor } from "../helpers/wait.ts";

const client = stackClient();
const stack = inject("stack");
const graph = metaGraphControl(stack.metaGraph);
const uniqueId = () => `7${String(Date.now()).slice(-9)}${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

describe("Meta leads when the Graph API fails", () => {
  it("keeps an acknowledged lead through a Graph outage and stores it once the outage ends", async () => {
    const leadgenId = uniqueId();
    await graph.addLeads({ [leadgenId]: graphLead(leadgenId, { email: `outage-${leadgenId}@example.com` }) });
    await graph.setOutage(true);
    try {
      const response = await client.send(metaDelivery([{ leadgenId }], testSecrets.META_APP_SECRET));
      expect(response.status).toBe(200);
      const failedLookups = async () =>
        (await graph.calls()).filter((call) => call.leadgenId === leadgenId && call.status === 503).length;
      await waitFor(async () => (await failedLookups()) >= 2, 30_000, "two failed Graph lookups");
      expect(await client.leadsByEmail(`outage-${leadgenId}@example.com`)).toEqual([]);
    } finally {
      await graph.setOutage(false);
    }
    await waitFor(
      async () => (await client.leadsByEmail(`outage-${leadgenId}@example.com`)).length === 1,
      60_000,
      "the lead to be stored after the outage",
    );
    const [lead] = await client.leadsByEmail(`outage-${leadgenId}@example.com`);
    expect(lead?.sources).toEqual([expect.objectContaining({ source: "meta", platformLeadId: leadgenId })]);
  });

  it("dead-letters, with the reason, a Meta lead the Graph API returns without email or phone", async () => {
    const leadgenId = uniqueId();
    await graph.addLeads({ [leadgenId]: graphLead(leadgenId, { full_name: "Nobody Reachable" }) });
    const before = await client.deadLetterDepth();
    expect((await client.send(metaDelivery([{ leadgenId }], testSecrets.META_APP_SECRET))).status).toBe(200);
    await waitFor(async () => (await client.deadLetterDepth()) > before, 30_000, "the dead-letter queue");
    const { Messages = [] } = await sqsClient(stack.sqsEndpoint).send(
      new ReceiveMessageCommand({ QueueUrl: stack.queues.capture.deadLetterUrl, MessageAttributeNames: ["All"] }),
    );
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages[0]?.Body ?? "{}")).toMatchObject({
      kind: "meta-lead",
      receipt: { platformLeadId: leadgenId },
    });
    expect(Messages[0]?.MessageAttributes?.["leadflow.error.code"]?.StringValue).toBe("validation_failed");
  });
});
