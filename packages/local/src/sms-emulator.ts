import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { toE164 } from "@leadflow/core";
import type { Emulator } from "./emulators.ts";
import type { Outbox } from "./outbox.ts";

const host = "127.0.0.1";
const sendTextMessage = "PinpointSMSVoiceV2.SendTextMessage";
const contentType = "application/x-amz-json-1.0";

/**
 * AWS End User Messaging SMS (`pinpoint-sms-voice-v2`) on this machine: answers SendTextMessage
 * (AWS JSON 1.0 protocol) and writes each accepted text to the outbox; any other operation is
 * refused. Refuses what the service refuses for the message alone (a number that is not a valid
 * E.164 number, such as +1000000000; an empty or over-long body) with a ValidationException, and every send with a
 * ThrottlingException while the SMS outage is on. Handlers reach it through
 * AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2.
 */
export async function startSms(outbox: Outbox): Promise<Emulator> {
  const server = createServer((request, response) => {
    void answer(outbox, request, response).catch((error: unknown) => {
      fail(response, 500, "InternalServerException", `local SMS failed: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, host, resolve));
  return {
    endpoint: `http://${host}:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface SendTextMessageRequest {
  DestinationPhoneNumber?: unknown;
  OriginationIdentity?: unknown;
  MessageBody?: unknown;
  Context?: Record<string, string>;
}

async function answer(outbox: Outbox, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = request.headers["x-amz-target"];
  if (request.method !== "POST" || target !== sendTextMessage) {
    return fail(response, 400, "UnknownOperationException", `The local SMS emulator answers only ${sendTextMessage}`);
  }
  let body: SendTextMessageRequest;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as SendTextMessageRequest;
  } catch {
    return fail(response, 400, "SerializationException", "The body is not JSON");
  }
  if (outbox.outage.sms) {
    return fail(response, 400, "ThrottlingException", "Local SMS outage (POST /_local/messages/outage)");
  }
  const { DestinationPhoneNumber: to, OriginationIdentity: from, MessageBody: text, Context: context } = body;
  if (typeof to !== "string" || toE164(to) !== to) {
    return fail(
      response,
      400,
      "ValidationException",
      "DestinationPhoneNumber is not a valid E.164 number",
      "INVALID_PARAMETER",
    );
  }
  if (typeof text !== "string" || text.length === 0 || text.length > 1600) {
    return fail(
      response,
      400,
      "ValidationException",
      "MessageBody must hold 1 to 1600 characters",
      "INVALID_PARAMETER",
    );
  }
  const providerMessageId = randomUUID();
  outbox.record({
    id: context?.["leadflow-message-id"] ?? providerMessageId,
    channel: "sms",
    to,
    from: typeof from === "string" ? from : "",
    subject: null,
    text,
    html: null,
    headers: {},
    purpose: context?.["leadflow-purpose"] ?? null,
    providerMessageId,
  });
  response.writeHead(200, { "content-type": contentType }).end(JSON.stringify({ MessageId: providerMessageId }));
}

/** An AWS JSON 1.0 error: the SDK reads its type from `__type` (and `x-amzn-errortype`). */
function fail(response: ServerResponse, status: number, type: string, message: string, reason?: string): void {
  if (response.headersSent) return void response.end();
  response
    .writeHead(status, { "content-type": contentType, "x-amzn-errortype": type })
    .end(JSON.stringify({ __type: type, message, ...(reason ? { Reason: reason } : {}) }));
}
