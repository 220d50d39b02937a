import type { QueueName } from "@leadflow/manifest";
import type { QueueLocation } from "./emulators.ts";

export interface WorkerOptions {
  dataDir?: string;
  tableName: string;
  sqsEndpoint: string;
  queues: Record<QueueName, QueueLocation>;
  domainEventTopicArn: string;
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
  | { type: "config"; configDir: string };
