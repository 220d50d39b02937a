import { startLocalStack } from "@leadflow/local";
import type { QueueName } from "@leadflow/manifest";
import type { TestProject } from "vitest/node";
import { testSecrets } from "../helpers/secrets.ts";

export interface StackUnderTest {
  url: string;
  /** The stack's Meta Graph stand-in (see metaGraphControl). */
  metaGraph: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  tableName: string;
  queues: Record<QueueName, { url: string; deadLetterUrl: string }>;
  domainEventTopicArn: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackUnderTest;
  }
}

/** The whole local stack, as `npm start --fast` runs it, once for the e2e suite. */
export default async function setup(project: TestProject) {
  const stack = await startLocalStack({
    port: 0,
    fast: true,
    environment: { ...testSecrets, POWERTOOLS_LOG_LEVEL: "ERROR" },
  });
  if (!stack.metaGraphStandIn)
    throw new Error("The e2e suite needs the stack's Meta Graph stand-in: unset META_GRAPH_URL");
  project.provide("stack", {
    url: stack.url,
    metaGraph: stack.metaGraphStandIn,
    sqsEndpoint: stack.endpoints.sqs,
    dynamodbEndpoint: stack.endpoints.dynamodb,
    tableName: stack.tableName,
    queues: stack.queues,
    domainEventTopicArn: stack.domainEventTopicArn,
  });
  return async () => {
    await stack.stop();
  };
}
