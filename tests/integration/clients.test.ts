import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendTextMessageCommand } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { GetAccountCommand } from "@aws-sdk/client-sesv2";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/**
 * The client factory leaves endpoints to the SDK, which reads `AWS_ENDPOINT_URL_<SERVICE ID>`:
 * each client must reach the endpoint its own variable names, and no other.
 */

const services = ["DYNAMODB", "SQS", "SESV2", "PINPOINT_SMS_VOICE_V2"] as const;
type Service = (typeof services)[number];

const seen: { service: Service; path: string; target: string | undefined }[] = [];
const servers: ReturnType<typeof createServer>[] = [];

beforeAll(async () => {
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("AWS_ACCESS_KEY_ID", "local");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "local");
  vi.stubEnv("AWS_ENDPOINT_URL", undefined);
  for (const service of services) {
    const server = createServer((request: IncomingMessage, response) => {
      request.resume();
      seen.push({ service, path: request.url ?? "", target: request.headers["x-amz-target"] as string | undefined });
      response.writeHead(400, { "content-type": "application/json" }).end('{"__type":"LocalTestError"}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    vi.stubEnv(`AWS_ENDPOINT_URL_${service}`, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
});

const fauxqsStyleQueueUrl = "http://sqs.us-east-1.localhost:9/000000000000/outbound";

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe("the AWS client factory", () => {
  it("sends each service's requests to the endpoint in its AWS_ENDPOINT_URL_<SERVICE> variable", async () => {
    const { clients } = await import("@leadflow/lambda");
    const calls: [Service, () => Promise<unknown>][] = [
      ["DYNAMODB", () => clients.dynamodb().send(new GetItemCommand({ TableName: "t", Key: { pk: { S: "x" } } }))],
      // fauxqs names queues by a host of their own; the request still goes to the endpoint.
      ["SQS", () => clients.sqs().send(new GetQueueAttributesCommand({ QueueUrl: fauxqsStyleQueueUrl }))],
      ["SESV2", () => clients.sesv2().send(new GetAccountCommand({}))],
      [
        "PINPOINT_SMS_VOICE_V2",
        () =>
          clients.sms().send(new SendTextMessageCommand({ DestinationPhoneNumber: "+14155550100", MessageBody: "hi" })),
      ],
    ];
    for (const [, call] of calls) await expect(call()).rejects.toThrow();

    expect(new Set(seen.map((request) => request.service))).toEqual(new Set(services));
    expect(seen.find((request) => request.service === "SESV2")?.path).toBe("/v2/email/account");
    expect(seen.find((request) => request.service === "PINPOINT_SMS_VOICE_V2")?.target).toBe(
      "PinpointSMSVoiceV2.SendTextMessage",
    );
    expect(seen.find((request) => request.service === "DYNAMODB")?.target).toBe("DynamoDB_20120810.GetItem");
    expect(seen.find((request) => request.service === "SQS")?.target).toBe("AmazonSQS.GetQueueAttributes");
  });
});
