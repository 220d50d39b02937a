import { inject } from "vitest";

/** What a queue consumer needs in its environment to run against the integration emulators. */
export function consumerEnvironment(queues: {
  tableName: string;
  queueUrl: string;
  deadLetterUrl: string;
  qualifiedUrl: string;
}): Record<string, string> {
  const emulators = inject("emulators");
  return {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb[0]?.endpoint as string,
    AWS_ENDPOINT_URL_SQS: emulators.sqs,
    TABLE_NAME: queues.tableName,
    QUEUE_URL: queues.queueUrl,
    DEAD_LETTER_QUEUE_URL: queues.deadLetterUrl,
    QUALIFIED_QUEUE_URL: queues.qualifiedUrl,
    MAX_RECEIVE_COUNT: "3",
    RETRY_BASE_SECONDS: "20",
    LEADFLOW_CONFIG_DIR: "config",
    POWERTOOLS_LOG_LEVEL: "SILENT",
  };
}
