import { startDynamo, startSqs } from "@leadflow/local";
import type { TestProject } from "vitest/node";
import { javaAvailable, startDynamoDbLocal } from "../helpers/dynamodb-local.ts";

export interface Emulators {
  /** DynamoDB engines the store suite runs against: dynalite always, DynamoDB Local where Java exists. */
  dynamodb: { name: string; endpoint: string }[];
  sqs: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    emulators: Emulators;
  }
}

/** Starts the emulators once per run for the integration suite. */
export default async function setup(project: TestProject) {
  const [dynalite, sqs, dynamoDbLocal] = await Promise.all([
    startDynamo(),
    startSqs(),
    javaAvailable() ? startDynamoDbLocal() : undefined,
  ]);
  const dynamodb = [{ name: "dynalite", endpoint: dynalite.endpoint }];
  if (dynamoDbLocal) dynamodb.push({ name: "DynamoDB Local", endpoint: dynamoDbLocal.endpoint });
  else console.warn("java not found: the store suite runs on dynalite only");
  project.provide("emulators", { dynamodb, sqs: sqs.endpoint });

  return async () => {
    await Promise.all([dynalite.stop(), sqs.stop(), dynamoDbLocal?.stop()]);
  };
}
