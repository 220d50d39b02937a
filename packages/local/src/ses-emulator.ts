import { createServer, type IncomingMessage, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { Config as SesV2LocalConfig } from "aws-ses-v2-local";
import type { Emulator } from "./emulators.ts";
import type { Outbox } from "./outbox.ts";

const host = "127.0.0.1";
const sendEmailPath = "/v2/email/outbound-emails";
// CommonJS with `exports.default`: required, so Node and vitest see the same thing.
const sesV2Local = createRequire(import.meta.url)("aws-ses-v2-local") as {
  default: (config: Partial<SesV2LocalConfig>) => Promise<Server>;
};

export interface SesEmulator extends Emulator {
  /** aws-ses-v2-local's web inbox (every email sent); `GET <inbox>/store` returns them as JSON. */
  inbox: string;
}

/**
 * SES v2 on this machine: aws-ses-v2-local (its API, checks and web inbox) behind a thin recorder
 * that writes each accepted SendEmail to the outbox, with leadflow's message id (the
 * `leadflow-message-id` tag, which aws-ses-v2-local does not keep) and the time to the
 * millisecond (it keeps seconds). Handlers reach it through AWS_ENDPOINT_URL_SESV2.
 * aws-ses-v2-local keeps one store per process, in memory.
 */
export async function startSes(outbox: Outbox): Promise<SesEmulator> {
  const inboxServer = await sesV2Local.default({ host, port: 0 });
  const inbox = `http://${host}:${(inboxServer.address() as AddressInfo).port}`;

  const front = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const path = new URL(request.url ?? "/", inbox).pathname;
      const sending = request.method === "POST" && path === sendEmailPath;
      if (sending && outbox.outage.email) {
        response.writeHead(429, { "content-type": "application/json", "x-amzn-errortype": "TooManyRequestsException" });
        return response.end(JSON.stringify({ message: "Local email outage (POST /_local/messages/outage)" }));
      }
      const upstream = await fetch(`${inbox}${request.url ?? "/"}`, {
        method: request.method ?? "GET",
        headers: forwardedHeaders(request),
        ...(body.length > 0 ? { body } : {}),
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      if (sending && upstream.ok) recordEmail(outbox, body, answer);
      response.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "text/plain" });
      response.end(answer);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ message: `local SES failed: ${(error as Error).message}` }));
    });
  });
  await new Promise<void>((resolve, reject) => front.once("error", reject).listen(0, host, resolve));

  return {
    endpoint: `http://${host}:${(front.address() as AddressInfo).port}`,
    inbox,
    stop: async () => {
      await Promise.all([close(front), close(inboxServer)]);
    },
  };
}

interface SendEmailRequest {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[] };
  Content?: {
    Simple?: {
      Subject?: { Data?: string };
      Body?: { Text?: { Data?: string }; Html?: { Data?: string } };
      Headers?: { Name: string; Value: string }[];
    };
  };
  EmailTags?: { Name: string; Value: string }[];
}

function recordEmail(outbox: Outbox, requestBody: Buffer, answer: Buffer): void {
  const request = JSON.parse(requestBody.toString("utf8")) as SendEmailRequest;
  const { MessageId = "" } = JSON.parse(answer.toString("utf8")) as { MessageId?: string };
  const simple = request.Content?.Simple;
  const tag = (name: string) => request.EmailTags?.find((candidate) => candidate.Name === name)?.Value;
  outbox.record({
    id: tag("leadflow-message-id") ?? MessageId,
    channel: "email",
    to: (request.Destination?.ToAddresses ?? []).join(", "),
    from: request.FromEmailAddress ?? "",
    subject: simple?.Subject?.Data ?? null,
    text: simple?.Body?.Text?.Data ?? null,
    html: simple?.Body?.Html?.Data ?? null,
    headers: Object.fromEntries((simple?.Headers ?? []).map(({ Name, Value }) => [Name, Value])),
    purpose: tag("leadflow-purpose") ?? null,
    providerMessageId: MessageId,
  });
}

const hopByHop = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

function forwardedHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && !hopByHop.has(name)) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
