import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SQSClient } from "@aws-sdk/client-sqs";
import { once } from "./once.ts";

/**
 * The one place AWS clients are built: once per process, reused by every invocation. Endpoints
 * come from the standard `AWS_ENDPOINT_URL_<SERVICE>` variables, which the local runtime points
 * at its emulators; on AWS they are unset.
 */
function clientOptions(service: "DYNAMODB" | "SQS" | "SFN") {
  const endpoint = process.env[`AWS_ENDPOINT_URL_${service}`];
  return { region: process.env.AWS_REGION ?? "us-east-1", maxAttempts: 3, ...(endpoint ? { endpoint } : {}) };
}

export const clients = {
  dynamodb: once(() => new DynamoDBClient(clientOptions("DYNAMODB"))),
  sqs: once(() => new SQSClient(clientOptions("SQS"))),
  sfn: once(() => new SFNClient(clientOptions("SFN"))),
};
