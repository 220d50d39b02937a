import { type ChildProcess, fork } from "node:child_process";
import { setPriority } from "node:os";
import { join } from "node:path";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ConfigError } from "@leadflow/core";
import {
  consumedQueues,
  environmentFor,
  environmentNames,
  type FunctionDefinition,
  functionDefaults,
  type QueueName,
  routes,
  schedules,
  secretNames,
  workflows,
} from "@leadflow/manifest";
import { type CheckedConfigInUse, useCheckedConfig } from "./config-reload.ts";
import { developmentSecrets, localRegion, localTableName } from "./development.ts";
import { ensureQueues, localCredentials, type QueueLocation, sqsClient, startSqs } from "./emulators.ts";
import { startGateway } from "./gateway.ts";
import { functionNameOf, loadHandler, projectRoot } from "./lambda-runtime.ts";
import { metaGraphStandIn } from "./meta-graph-stand-in.ts";
import { redriveTool } from "./redrive.ts";
import { reply } from "./reply.ts";
import { type LocalSchedules, startSchedules } from "./schedules.ts";
import { startStepFunctions, workflowFastTimeScale } from "./step-functions.ts";
import type { WorkerMessage, WorkerOptions } from "./worker-protocol.ts";
import { requestActivity } from "./yielding.ts";

export interface LocalStackOptions {
  /** HTTP port; 0 picks a free one. Default: `PORT` or 3000. */
  port?: number;
  /** The marketer-owned config files, watched for edits. Default: the project's config/. */
  configDir?: string;
  /** Keep the table and queues here across restarts; in memory when absent. */
  dataDir?: string;
  /** Scale retry delays down (30 s becomes 1 s) so retries play out in seconds. */
  fast?: boolean;
  /** Settings and secrets for the handlers, over the environment and the development defaults. */
  environment?: Record<string, string>;
  /**
   * Called after an edit to config/: with the new scoring config's version once the handlers use
   * it, or with the mistakes that made the stack keep the previous config.
   */
  onConfigChange?: (change: ConfigChange) => void;
  /** OS niceness of the queue worker process (0-19). */
  workerNiceness?: number;
  /** Batches each queue consumer handles at once. */
  workerConcurrency?: number;
}

export type ConfigChange = { scoringVersion: string } | { mistakes: ConfigError };

export interface LocalStack {
  url: string;
  port: number;
  /** The Meta Graph stand-in's control URL, when the stack serves it (META_GRAPH_URL unset). */
  metaGraphStandIn: string | undefined;
  endpoints: { dynamodb: string; sqs: string; stepFunctions: string };
  tableName: string;
  queues: Record<QueueName, QueueLocation>;
  /** Settles if the queue worker dies: the gateway is then closed, so nothing more is acknowledged. */
  failed: Promise<Error>;
  /** Messages waiting or in flight on the queues a consumer reads (DLQs excluded). */
  pendingMessages(): Promise<number>;
  /** The stack's crons, on local timers; `run` runs one now. */
  schedules: LocalSchedules;
  /**
   * Stops taking requests, lets the worker finish the batches under way, then stops. Returns how
   * many messages were still queued: kept in `dataDir` for the next start, or gone when in memory.
   */
  stop(): Promise<{ unprocessed: number }>;
}

export const fastTimeScale = 1 / 30;
const metaGraphStandInPath = "/_local/meta-graph";
const redrivePath = "/_local/redrive";
const schedulesPath = "/_local/schedules";
const environmentPath = "/_local/environment";

/** Everything `npm start` runs: emulators, queue workers and the HTTP API, on this machine. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const worker = workerChannel();
  // Refused before anything starts, with every mistake's line and column.
  const config = useCheckedConfig(options.configDir ?? join(projectRoot, "config"), (reload) => {
    if ("mistakes" in reload) return options.onConfigChange?.(reload);
    worker.tell({ type: "config", configDir: reload.configDir });
    options.onConfigChange?.({ scoringVersion: reload.scoringVersion });
  });
  return startServices(options, config, worker).catch((error: unknown) => {
    config.close();
    throw error;
  });
}

async function startServices(
  options: LocalStackOptions,
  config: CheckedConfigInUse,
  channel: WorkerChannel,
): Promise<LocalStack> {
  const timeScale = options.fast ? fastTimeScale : 1;
  const sqsEmulator = await startSqs(options.dataDir);
  const sqs = sqsClient(sqsEmulator.endpoint);
  const queues = await ensureQueues(sqs);
  const stepFunctions = await startStepFunctions({
    workflows,
    timeScale: options.fast ? workflowFastTimeScale : 1,
  });

  // The queue worker yields to API requests; it starts after the gateway, hence the channel.
  const activity = requestActivity((busy) => channel.tell({ type: busy ? "busy" : "idle" }));
  const gateway = await startGateway(options.port ?? Number(process.env.PORT || 3000), activity);
  const metaGraphUrl = options.environment?.META_GRAPH_URL ?? process.env.META_GRAPH_URL;
  if (!metaGraphUrl) gateway.mount(metaGraphStandInPath, metaGraphStandIn());
  const environment = handlerEnvironment(sqsEmulator.endpoint, {
    AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint,
    META_GRAPH_URL: metaGraphUrl ?? `http://127.0.0.1:${gateway.port}${metaGraphStandInPath}/v25.0`,
    ...options.environment,
  });
  const worker = await startWorker(environment, {
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    tableName: localTableName,
    sqsEndpoint: sqsEmulator.endpoint,
    queues,
    timeScale,
    concurrency: options.workerConcurrency ?? 4,
  });
  setPriority(worker.process.pid as number, options.workerNiceness ?? 10);
  channel.connect(worker.process);
  // An edit checked while the worker started would have been dropped.
  channel.tell({ type: "config", configDir: config.current() });

  const resources = { tableName: localTableName, queueUrls: queues, workflowArns: stepFunctions.workflowArns };
  Object.assign(process.env, environment, { AWS_ENDPOINT_URL_DYNAMODB: worker.dynamodbEndpoint });
  for (const definition of [...Object.values(routes), ...Object.values(schedules)]) {
    Object.assign(process.env, environmentFor(definition, resources));
  }

  const gatewayRoutes = await Promise.all(
    Object.entries(routes).map(async ([routeKey, route]: [string, FunctionDefinition]) => ({
      routeKey,
      functionName: functionNameOf(route.handler),
      handler: await loadHandler(route.handler),
      timeoutSeconds: route.timeoutSeconds ?? functionDefaults.timeoutSeconds,
    })),
  );
  // Like routes: each task handler imported once its environment is set.
  const loadWorkflowHandler = async (definition: FunctionDefinition<string>) => {
    Object.assign(process.env, environmentFor(definition, resources));
    return loadHandler(definition.handler);
  };
  await stepFunctions.load(loadWorkflowHandler);
  const localSchedules = await startSchedules(timeScale);
  gateway.mount(redrivePath, redriveTool(sqs, queues));
  gateway.mount(schedulesPath, localSchedules.tool);
  // What command-line tools (rescore) need to reach this stack's table and queues; no secrets.
  const secretSet = new Set<string>(secretNames);
  const toolEnvironment = {
    ...Object.fromEntries(Object.entries(environment).filter(([name]) => !secretSet.has(name))),
    AWS_ENDPOINT_URL_DYNAMODB: worker.dynamodbEndpoint,
    ...environmentFor(schedules["refresh-temperatures"], resources),
  };
  // Tools score with the config the handlers use now: the latest edit that passed the checks.
  gateway.mount(environmentPath, async (_request, response) =>
    reply(response, 200, { ...toolEnvironment, [environmentNames.configDir]: config.current() }),
  );
  gateway.serve(gatewayRoutes);
  await stepFunctions.resume(loadWorkflowHandler);
  const pendingMessages = () => countPending(sqs, queues);
  let stopping = false;
  // Acknowledging leads nobody will store is the one thing not to do: if the worker dies, the
  // gateway stops answering and `failed` settles.
  const failed = new Promise<Error>((resolve) => {
    worker.process.once("exit", (code) => {
      if (stopping) return;
      void gateway.close();
      void stepFunctions.stop();
      localSchedules.stop();
      config.close();
      resolve(new Error(`The queue worker stopped unexpectedly (exit code ${code}); the API is closed.`));
    });
  });

  return {
    url: gateway.url,
    port: gateway.port,
    metaGraphStandIn: metaGraphUrl ? undefined : `${gateway.url}${metaGraphStandInPath}`,
    endpoints: { dynamodb: worker.dynamodbEndpoint, sqs: sqsEmulator.endpoint, stepFunctions: stepFunctions.endpoint },
    tableName: localTableName,
    queues,
    pendingMessages,
    schedules: localSchedules,
    failed,
    async stop() {
      stopping = true;
      localSchedules.stop();
      await gateway.close();
      await worker.stop();
      await stepFunctions.stop();
      const unprocessed = await pendingMessages();
      await sqsEmulator.stop();
      config.close();
      return { unprocessed };
    },
  };
}

/** Messages for the queue worker, which starts after the gateway: dropped until it is connected. */
function workerChannel() {
  let send: ((message: WorkerMessage) => void) | undefined;
  return {
    tell: (message: WorkerMessage) => send?.(message),
    connect(child: ChildProcess) {
      send = (message) => child.connected && child.send(message);
    },
  };
}

type WorkerChannel = ReturnType<typeof workerChannel>;

/** What every local handler sees: emulator endpoints, fake credentials, secrets, settings. */
function handlerEnvironment(sqsEndpoint: string, overrides: Record<string, string> = {}): Record<string, string> {
  const secrets = Object.fromEntries(secretNames.map((name) => [name, process.env[name] || developmentSecrets[name]]));
  return {
    [environmentNames.runtime]: "local",
    AWS_REGION: localRegion,
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    ...secrets,
    ...overrides,
  };
}

async function startWorker(environment: Record<string, string>, workerOptions: WorkerOptions) {
  const child = fork(join(import.meta.dirname, "worker.ts"), {
    env: { ...process.env, ...environment, LEADFLOW_WORKER_OPTIONS: JSON.stringify(workerOptions) },
    execArgv: [],
  });
  const dynamodbEndpoint = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`The queue worker exited during start-up (code ${code})`)));
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "ready") resolve(message.dynamodbEndpoint);
    });
  });
  return { process: child, dynamodbEndpoint, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.send({ type: "stop" } satisfies WorkerMessage);
  });
}

async function countPending(sqs: SQSClient, queues: Record<QueueName, QueueLocation>): Promise<number> {
  const counts = await Promise.all(
    consumedQueues.map(async (name) => {
      const queue = queues[name];
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}
