import type { QueueName } from "@leadflow/manifest";
import type { QueueLocation } from "./emulators.ts";
import type { HandlerEnvironmentReport } from "./handler-environment.ts";

export interface WorkerOptions {
  dataDir?: string;
  tableName: string;
  sqsEndpoint: string;
  queues: Record<QueueName, QueueLocation>;
  domainEventTopicArn: string;
  /** The base of links in messages (PUBLIC_URL). */
  publicUrl: string;
  /** The emulators of the main process the consumers also reach. */
  endpoints: { sesv2: string; sms: string; sfn: string };
  /** The checked copy of config/ the handlers read until a `config` message names another. */
  configDir: string;
  timeScale: number;
  concurrency: number;
}

export type WorkerMessage =
  | { type: "ready"; dynamodbEndpoint: string }
  | { type: "stop" }
  /** The API is answering requests: poll sparingly. */
  | { type: "busy" }
  | { type: "idle" }
  /** config/ was edited and checked: handlers read this copy of it from now on. */
  | { type: "config"; configDir: string }
  /** The local clock moved (POST /_local/clock): handlers go by the system's time plus `offsetMs`. */
  | { type: "clock"; offsetMs: number }
  | { type: "clock-set"; offsetMs: number }
  /** Per consumer: invocations, and what it read that its manifest entry does not give it. */
  | { type: "report-handler-environments" }
  | { type: "handler-environments"; report: Record<string, HandlerEnvironmentReport> };
