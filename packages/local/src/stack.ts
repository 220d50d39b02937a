import { type ChildProcess, fork } from "node:child_process";
import { setPriority } from "node:os";
import { join } from "node:path";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ConfigError } from "@leadflow/core";
import {
  consumedQueues,
  environmentNames,
  type FunctionDefinition,
  functionDefaults,
  type QueueName,
  type ResourceLocations,
  routes,
  schedules,
  secretNames,
  workflows,
} from "@leadflow/manifest";
import { clockTool } from "./clock-tool.ts";
import { type CheckedConfigInUse, useCheckedConfig } from "./config-reload.ts";
import { localTableName } from "./development.ts";
import { ensureEventTopic, ensureQueues, type QueueLocation, snsClient, sqsClient, startSqs } from "./emulators.ts";
import { startGateway } from "./gateway.ts";
import {
  type HandlerEnvironmentReport,
  type IsolatedHandlers,
  isolatedHandlers,
  type LocalEnvironmentContext,
  localEnvironmentFor,
  localRuntimeEnvironment,
  settingsOf,
} from "./handler-environment.ts";
import { functionNameOf, projectRoot } from "./lambda-runtime.ts";
import { messagesTool } from "./messages-tool.ts";
import { metaGraphStandIn } from "./meta-graph-stand-in.ts";
import { openOutbox } from "./outbox.ts";
import { redriveTool } from "./redrive.ts";
import { reply } from "./reply.ts";
import { type LocalSchedules, startSchedules } from "./schedules.ts";
import { startSes } from "./ses-emulator.ts";
import { sesEventsTool } from "./ses-events-tool.ts";
import { startSms } from "./sms-emulator.ts";
import { type HandlerLoader, startStepFunctions, workflowFastTimeScale } from "./step-functions.ts";
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
  endpoints: { dynamodb: string; sqs: string; sns: string; ses: string; sms: string; stepFunctions: string };
  /** aws-ses-v2-local's web inbox: every email sent. */
  emailInbox: string;
  /** The base of links in messages (PUBLIC_URL): the API's own URL unless set. */
  publicUrl: string;
  tableName: string;
  queues: Record<QueueName, QueueLocation>;
  /** The domain-event topic, which the manifest's subscribed queues receive from. */
  domainEventTopicArn: string;
  /** Settles if the queue worker dies: the gateway is then closed, so nothing more is acknowledged. */
  failed: Promise<Error>;
  /** Messages waiting or in flight on the queues a consumer reads (DLQs excluded). */
  pendingMessages(): Promise<number>;
  /** The stack's crons, on local timers; `run` runs one now. */
  schedules: LocalSchedules;
  /**
   * Per handler (route key, `consumer <name>`, `schedule <name>`), its invocations so far and the
   * environment variables it read that its manifest entry does not give it (undefined to it, as
   * on Lambda), from both processes.
   */
  handlerEnvironments(): Promise<Record<string, HandlerEnvironmentReport>>;
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
const messagesPath = "/_local/messages";
const clockPath = "/_local/clock";

/** Everything `npm start` runs: emulators, queue workers and the HTTP API, on this machine. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const worker = workerChannel();
  const handlers = isolatedHandlers();
  // Refused before anything starts, with every mistake's line and column.
  const config = useCheckedConfig(options.configDir ?? join(projectRoot, "config"), (reload) => {
    if ("mistakes" in reload) return options.onConfigChange?.(reload);
    handlers.setEverywhere(environmentNames.configDir, reload.configDir);
    worker.tell({ type: "config", configDir: reload.configDir });
    options.onConfigChange?.({ scoringVersion: reload.scoringVersion });
  });
  return startServices(options, config, worker, handlers).catch((error: unknown) => {
    config.close();
    throw error;
  });
}

async function startServices(
  options: LocalStackOptions,
  config: CheckedConfigInUse,
  channel: WorkerChannel,
  handlers: IsolatedHandlers,
): Promise<LocalStack> {
  const timeScale = options.fast ? fastTimeScale : 1;
  const sqsEmulator = await startSqs(options.dataDir);
  const sqs = sqsClient(sqsEmulator.endpoint);
  const queues = await ensureQueues(sqs);
  const domainEventTopicArn = await ensureEventTopic(snsClient(sqsEmulator.endpoint), queues);
  // Email and SMS land in one outbox (GET /_local/messages), kept in dataDir when there is one.
  const outbox = openOutbox(options.dataDir);
  const [ses, sms] = await Promise.all([startSes(outbox), startSms(outbox)]);
  const stepFunctions = await startStepFunctions({
    workflows,
    timeScale: options.fast ? workflowFastTimeScale : 1,
  });

  // The queue worker yields to API requests; it starts after the gateway, hence the channel.
  const activity = requestActivity((busy) => channel.tell({ type: busy ? "busy" : "idle" }));
  const gateway = await startGateway(options.port ?? Number(process.env.PORT || 3000), activity);
  const metaGraphUrl = options.environment?.META_GRAPH_URL ?? process.env.META_GRAPH_URL;
  if (!metaGraphUrl) gateway.mount(metaGraphStandInPath, metaGraphStandIn());
  const publicUrl = options.environment?.PUBLIC_URL || process.env.PUBLIC_URL || gateway.url;
  const resources: ResourceLocations = {
    tableName: localTableName,
    queueUrls: queues,
    domainEventTopicArn,
    publicUrl: { url: publicUrl },
    workflowArns: stepFunctions.workflowArns,
  };
  // Secrets and settings for the handlers; each gets those its manifest entry lists.
  const values: Record<string, string | undefined> = {
    ...process.env,
    META_GRAPH_URL: metaGraphUrl ?? `http://127.0.0.1:${gateway.port}${metaGraphStandInPath}/v25.0`,
    // Speed-to-lead's accept times and holds, which its tasks compute from config (÷60 with --fast).
    ...(options.fast ? { WORKFLOW_TIME_SCALE: String(workflowFastTimeScale) } : {}),
    ...options.environment,
  };
  const worker = await startWorker(values, {
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    tableName: localTableName,
    sqsEndpoint: sqsEmulator.endpoint,
    queues,
    domainEventTopicArn,
    publicUrl,
    endpoints: { sesv2: ses.endpoint, sms: sms.endpoint, sfn: stepFunctions.endpoint },
    configDir: config.current(),
    timeScale,
    concurrency: options.workerConcurrency ?? 4,
  });
  setPriority(worker.process.pid as number, options.workerNiceness ?? 10);
  channel.connect(worker.process);
  // An edit checked while the worker started would have been dropped.
  channel.tell({ type: "config", configDir: config.current() });

  const context: LocalEnvironmentContext = {
    resources,
    runtime: localRuntimeEnvironment(
      {
        sqs: sqsEmulator.endpoint,
        dynamodb: worker.dynamodbEndpoint,
        sesv2: ses.endpoint,
        sms: sms.endpoint,
        sfn: stepFunctions.endpoint,
      },
      config.current(),
    ),
    values,
    timeScale,
  };
  const gatewayRoutes = await Promise.all(
    Object.entries(routes).map(async ([routeKey, route]: [string, FunctionDefinition]) => ({
      routeKey,
      functionName: functionNameOf(route.handler),
      handler: await handlers.load(routeKey, route.handler, localEnvironmentFor(route, context), settingsOf(route)),
      timeoutSeconds: route.timeoutSeconds ?? functionDefaults.timeoutSeconds,
    })),
  );
  // Like routes: each task handler with the environment its manifest entry gives it.
  const loadWorkflowHandler: HandlerLoader = (name, definition) =>
    handlers.load(name, definition.handler, localEnvironmentFor(definition, context), settingsOf(definition));
  await stepFunctions.load(loadWorkflowHandler);
  const localSchedules = await startSchedules(timeScale, (name, definition) =>
    handlers.load(
      `schedule ${name}`,
      definition.handler,
      localEnvironmentFor(definition, context),
      settingsOf(definition),
    ),
  );
  // An edit checked while the handlers loaded would have been missed by those loaded before it.
  handlers.setEverywhere(environmentNames.configDir, config.current());
  gateway.mount(redrivePath, redriveTool(sqs, queues));
  gateway.mount(schedulesPath, localSchedules.tool);
  gateway.mount(messagesPath, messagesTool(outbox));
  gateway.mount("/_local/ses-events", sesEventsTool(sqs, queues.deliverability));
  gateway.mount(
    clockPath,
    clockTool(async (offsetMs, from) => {
      await worker.setClock(offsetMs);
      await localSchedules.clockMoved(from);
    }),
  );
  // What command-line tools (rescore) need to reach this stack's table and topic: what the
  // daily refresh sees, which holds no secret.
  const secretSet = new Set<string>(secretNames);
  const toolEnvironment = {
    ...Object.fromEntries(
      Object.entries(localEnvironmentFor(schedules["refresh-temperatures"], context)).filter(
        ([name]) => !secretSet.has(name),
      ),
    ),
    // The base of links, for tools that render messages.
    [environmentNames.publicUrl]: publicUrl,
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
    endpoints: {
      dynamodb: worker.dynamodbEndpoint,
      sqs: sqsEmulator.endpoint,
      sns: sqsEmulator.endpoint,
      ses: ses.endpoint,
      sms: sms.endpoint,
      stepFunctions: stepFunctions.endpoint,
    },
    emailInbox: ses.inbox,
    publicUrl,
    tableName: localTableName,
    queues,
    domainEventTopicArn,
    pendingMessages,
    schedules: localSchedules,
    async handlerEnvironments() {
      return { ...handlers.report(), ...(await worker.handlerEnvironments()) };
    },
    failed,
    async stop() {
      stopping = true;
      localSchedules.stop();
      await gateway.close();
      await worker.stop();
      await stepFunctions.stop();
      const unprocessed = await pendingMessages();
      await Promise.all([sqsEmulator.stop(), ses.stop(), sms.stop()]);
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

/** The worker process, given the values of secrets and settings in its own environment. */
async function startWorker(values: Record<string, string | undefined>, workerOptions: WorkerOptions) {
  const child = fork(join(import.meta.dirname, "worker.ts"), {
    env: { ...values, LEADFLOW_WORKER_OPTIONS: JSON.stringify(workerOptions) },
    execArgv: [],
  });
  const dynamodbEndpoint = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`The queue worker exited during start-up (code ${code})`)));
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "ready") resolve(message.dynamodbEndpoint);
    });
  });
  return {
    process: child,
    dynamodbEndpoint,
    stop: () => stopChild(child),
    /** Moves the worker's clock; resolves once its handlers go by it. */
    setClock: (offsetMs: number) =>
      new Promise<void>((resolve) => {
        const listen = (message: WorkerMessage) => {
          if (message.type !== "clock-set" || message.offsetMs !== offsetMs) return;
          child.off("message", listen);
          resolve();
        };
        child.on("message", listen);
        child.send({ type: "clock", offsetMs } satisfies WorkerMessage);
      }),
    /** The consumers' reports, asked of the worker. */
    handlerEnvironments: () =>
      new Promise<Record<string, HandlerEnvironmentReport>>((resolve) => {
        const listen = (message: WorkerMessage) => {
          if (message.type !== "handler-environments") return;
          child.off("message", listen);
          resolve(message.report);
        };
        child.on("message", listen);
        child.send({ type: "report-handler-environments" } satisfies WorkerMessage);
      }),
  };
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
