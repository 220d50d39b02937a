/**
 * The queue side of `npm start`, in a child process of lower OS priority so that webhook
 * acknowledgements keep the CPU they need: dynalite, and one poller per queue consumer. While
 * the API is busy the pollers yield (see yielding.ts). Each consumer sees only its own
 * environment (handler-environment.ts); this process's environment holds the values of secrets
 * and settings they are given from.
 */

import { setLocalClockOffset } from "@leadflow/core";
import {
  type ConsumerDefinition,
  consumers,
  environmentNames,
  functionDefaults,
  workflowNames,
} from "@leadflow/manifest";
import { dynamoClient, ensureTable, sqsClient, startDynamo } from "./emulators.ts";
import { isolatedHandlers, localEnvironmentFor, localRuntimeEnvironment, settingsOf } from "./handler-environment.ts";
import { functionNameOf } from "./lambda-runtime.ts";
import { startPoller } from "./poller.ts";
import { localWorkflowArns } from "./step-functions.ts";
import type { WorkerMessage, WorkerOptions } from "./worker-protocol.ts";
import { ingestionGate } from "./yielding.ts";

const options = JSON.parse(process.env.LEADFLOW_WORKER_OPTIONS ?? "{}") as WorkerOptions;

// Ctrl-C reaches the whole process group; the parent decides when this process stops.
process.on("SIGINT", () => undefined);

const dynamo = await startDynamo(options.dataDir);
await ensureTable(dynamoClient(dynamo.endpoint), options.tableName);

const sqs = sqsClient(options.sqsEndpoint);
const handlers = isolatedHandlers();
const context = {
  resources: {
    tableName: options.tableName,
    queueUrls: options.queues,
    domainEventTopicArn: options.domainEventTopicArn,
    publicUrl: { url: options.publicUrl },
    workflowArns: localWorkflowArns(workflowNames),
  },
  runtime: localRuntimeEnvironment(
    { sqs: options.sqsEndpoint, dynamodb: dynamo.endpoint, ...options.endpoints },
    options.configDir,
  ),
  values: { ...process.env },
  timeScale: options.timeScale,
};

const gate = ingestionGate();
const pollers: ReturnType<typeof startPoller>[] = [];
for (const [name, consumer] of Object.entries(consumers) as [string, ConsumerDefinition][]) {
  const queue = options.queues[consumer.queue];
  pollers.push(
    startPoller({
      client: sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      functionName: functionNameOf(consumer.handler),
      handler: await handlers.load(
        `consumer ${name}`,
        consumer.handler,
        localEnvironmentFor(consumer, context),
        settingsOf(consumer),
      ),
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
  else if (message.type === "config") handlers.setEverywhere(environmentNames.configDir, message.configDir);
  else if (message.type === "clock") {
    setLocalClockOffset(message.offsetMs);
    process.send?.({ type: "clock-set", offsetMs: message.offsetMs } satisfies WorkerMessage);
  } else if (message.type === "report-handler-environments")
    process.send?.({ type: "handler-environments", report: handlers.report() } satisfies WorkerMessage);
});
process.on("disconnect", () => void stop());
process.send?.({ type: "ready", dynamodbEndpoint: dynamo.endpoint } satisfies WorkerMessage);
