import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { QueueName } from "@leadflow/manifest";
import type { QueueLocation } from "./emulators.ts";
import type { LocalTool } from "./gateway.ts";
import { reply } from "./reply.ts";

/**
 * `POST /_local/redrive[/<queue>]`: moves what the dead-letter queues hold back to their queues,
 * once the cause is fixed (on AWS: `aws sqs start-message-move-task`, see docs/deploy.md).
 */
export function redriveTool(sqs: SQSClient, queues: Record<QueueName, QueueLocation>): LocalTool {
  return async (request, response, path) => {
    if (request.method !== "POST") return reply(response, 405, { error: { code: "method_not_allowed" } });
    const wanted = path.replace(/^\//, "");
    const selected = Object.entries(queues).filter(([name]) => !wanted || name === wanted);
    if (selected.length === 0)
      return reply(response, 404, { error: { code: "not_found", message: `No queue ${wanted}` } });
    const moved: Record<string, number> = {};
    for (const [name, queue] of selected) moved[name] = await redrive(sqs, queue);
    reply(response, 200, { moved });
  };
}

async function redrive(sqs: SQSClient, queue: QueueLocation): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return moved;
    const entries = Messages.map((message, index) => ({ Id: String(index), message }));
    const { Successful = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: entries.map(({ Id, message }) => ({ Id, MessageBody: message.Body ?? "" })),
      }),
    );
    // Only what reached the queue leaves the DLQ; the rest reappears there.
    const sent = new Set(Successful.map((entry) => entry.Id));
    const moving = entries.filter(({ Id }) => sent.has(Id));
    if (moving.length === 0) return moved;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.deadLetterUrl,
        Entries: moving.map(({ Id, message }) => ({ Id, ReceiptHandle: message.ReceiptHandle ?? "" })),
      }),
    );
    moved += moving.length;
  }
}
