import { ChangeMessageVisibilityCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { sqsClient } from "@leadflow/local";
import { describe, expect, inject, it } from "vitest";
import { metaGraphControl } from "../helpers/meta-graph.ts";
import { formDelivery, graphLead, metaDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";
import { inParallel, waitFor } from "../helpers/wait.ts";

const client = stackClient();
const stack = inject("stack");
const graph = metaGraphControl(stack.metaGraph);
let sequence = 0;
const uniqueId = () => `7${String(Date.now()).slice(-9)}${String(sequence++).padStart(7, "0")}`;

describe("Meta leads when the Graph API fails", () => {
  it("keeps every acknowledged lead through a Graph outage, with other traffic going on, and stores them after", async () => {
    const leadgenIds = Array.from({ length: 30 }, uniqueId);
    const emailOf = (id: string) => `outage-${id}@example.com`;
    await graph.addLeads(Object.fromEntries(leadgenIds.map((id) => [id, graphLead(id, { email: emailOf(id) })])));
    const formEmails = Array.from({ length: 30 }, (_, index) => `during-outage-${leadgenIds[0]}-${index}@example.com`);
    await graph.setOutage(true);
    try {
      const metaStatuses = await inParallel(leadgenIds, 8, async (leadgenId) => {
        return (await client.send(metaDelivery([{ leadgenId }], testSecrets.META_APP_SECRET))).status;
      });
      const formStatuses = await inParallel(formEmails, 8, async (email) => {
        return (await client.send(formDelivery({ email }, { secret: testSecrets.FORM_SIGNING_SECRET }))).status;
      });
      expect(new Set([...metaStatuses, ...formStatuses])).toEqual(new Set([200, 202]));
      const failedLookups = async () => (await graph.calls()).filter((call) => call.status === 503).length;
      await waitFor(async () => (await failedLookups()) >= 60, 30_000, "every Meta lead to fail its lookup twice");
      expect(await client.leadsByEmail(emailOf(leadgenIds[0] as string))).toEqual([]);
    } finally {
      await graph.setOutage(false);
    }
    const stored = async (emails: string[]) =>
      (await Promise.all(emails.map((email) => client.leadsByEmail(email)))).filter((items) => items.length === 1)
        .length;
    await waitFor(async () => (await stored(leadgenIds.map(emailOf))) === 30, 60_000, "every Meta lead to be stored");
    expect(await stored(formEmails)).toBe(30);
    const [lead] = await client.leadsByEmail(emailOf(leadgenIds[0] as string));
    expect(lead?.sources).toEqual([expect.objectContaining({ source: "meta", platformLeadId: leadgenIds[0] })]);
  });

  it("dead-letters, with the reason, a Meta lead the Graph API returns without email or phone; redriven once fixed", async () => {
    const leadgenId = uniqueId();
    await graph.addLeads({ [leadgenId]: graphLead(leadgenId, { full_name: "Nobody Reachable" }) });
    const before = await client.deadLetterDepth();
    expect((await client.send(metaDelivery([{ leadgenId }], testSecrets.META_APP_SECRET))).status).toBe(200);
    await waitFor(async () => (await client.deadLetterDepth()) > before, 30_000, "the dead-letter queue");
    // Other files of the suite dead-letter too (the fuzz test, many): look through the queue for ours.
    let letter: Message | undefined;
    await waitFor(
      async () => {
        const { Messages = [] } = await sqsClient(stack.sqsEndpoint).send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queues.capture.deadLetterUrl,
            MessageAttributeNames: ["All"],
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 2,
          }),
        );
        letter = Messages.find((message) => message.Body?.includes(leadgenId));
        return letter !== undefined;
      },
      30_000,
      "our dead letter",
    );
    // Visible again at once, for the redrive below.
    await sqsClient(stack.sqsEndpoint).send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: stack.queues.capture.deadLetterUrl,
        ReceiptHandle: letter?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    expect(JSON.parse(letter?.Body ?? "{}")).toMatchObject({
      kind: "meta-lead",
      receipt: { platformLeadId: leadgenId },
    });
    expect(letter?.MessageAttributes?.["leadflow.error.code"]?.StringValue).toBe("validation_failed");
    expect(letter?.MessageAttributes?.["leadflow.error.message"]?.StringValue).toMatch(/email or phone/);

    // Fixed at the source (the lead now has an email), the dead letter is redriven and stored.
    await graph.addLeads({ [leadgenId]: graphLead(leadgenId, { email: `redriven-${leadgenId}@example.com` }) });
    const redrive = await fetch(`${stack.url}/_local/redrive/capture`, { method: "POST" });
    expect(redrive.status).toBe(200);
    expect(((await redrive.json()) as { moved: { capture: number } }).moved.capture).toBeGreaterThanOrEqual(1);
    await waitFor(
      async () => (await client.leadsByEmail(`redriven-${leadgenId}@example.com`)).length === 1,
      30_000,
      "the redriven lead",
    );
  });
});
