/**
 * The queue side of `npm start`, in a child process of lower OS priority so that webhook
 * acknowledgements keep the CPU they need: dynalite, and one poller per queue consumer. While
 * the API is busy the pollers yield (see yielding.ts).
 */
import { consumers, environmentFor, environmentNames, functionDefaults, workflowNames } from "@leadflow/manifest";
import { dynamoClient, ensureTable, sqsClient, startDynamo } from "./emulators.ts";
import { functionNameOf, loadHandler } from "./lambda-runtime.ts";
import { startPoller } from "./poller.ts";
import { localWorkflowArns } from "./step-functions.ts";
import type { WorkerMessage, WorkerOptions } from "./worker-protocol.ts";
import { ingestionGate } from "./yielding.ts";

const options = JSON.parse(process.env.LEADFLOW_WORKER_OPTIONS ?? "{}") as WorkerOptions;

// Ctrl-C reaches the whole process group; the parent decides when this process stops.
process.on("SIGINT", () => undefined);

const dynamo = await startDynamo(options.dataDir);
await ensureTable(dynamoClient(dynamo.endpoint), options.tableName);
process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;

const sqs = sqsClient(options.sqsEndpoint);
const resources = {
  tableName: options.tableName,
  queueUrls: options.queues,
  workflowArns: localWorkflowArns(workflowNames),
};

const gate = ingestionGate();
const pollers: ReturnType<typeof startPoller>[] = [];
for (const consumer of Object.values(consumers)) {
  // Handlers read their environment when imported, like a Lambda cold start.
  Object.assign(process.env, environmentFor(consumer, resources), {
    [environmentNames.retryBaseSeconds]: String(Math.max(1, Math.round(consumer.retryBaseSeconds * options.timeScale))),
  });
  const queue = options.queues[consumer.queue];
  pollers.push(
    startPoller({
      client: sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      functionName: functionNameOf(consumer.handler),
      handler: await loadHandler(consumer.handler),
      batchSize: consumer.batchSize,
      concurrency: options.concurrency,
      timeoutSeconds: consumer.timeoutSeconds ?? functionDefaults.timeoutSeconds,
      gate,
    }),
  );
}

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= (async () => {
    await Promise.all(pollers.map((poller) => poller.stop()));
    await dynamo.stop();
    process.exit(0);
  })();
  return stopping;
}

process.on("message", (message: WorkerMessage) => {
  if (message.type === "stop") void stop();
  else if (message.type === "busy" || message.type === "idle") gate.setBusy(message.type === "busy");
  else if (message.type === "config") process.env[environmentNames.configDir] = message.configDir;
});
process.on("disconnect", () => void stop());
process.send?.({ type: "ready", dynamodbEndpoint: dynamo.endpoint } satisfies WorkerMessage);
