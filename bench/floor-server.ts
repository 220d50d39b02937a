/**
 * The floor of the capture path: a bare node:http server that only checks the Standard Webhooks
 * HMAC and sends the body to the same emulated queue (fauxqs, in-process, as in `npm start`).
 * Run as its own process by bench/capture.ts; prints its URL when ready.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { ensureQueues, sqsClient, startSqs } from "@leadflow/local";

const key = Buffer.from((process.env.FORM_SIGNING_SECRET ?? "").replace(/^whsec_/, ""), "base64");
const sqsEmulator = await startSqs();
const sqs = sqsClient(sqsEmulator.endpoint);
const { capture } = await ensureQueues(sqs);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", async () => {
    const body = Buffer.concat(chunks);
    const id = request.headers["webhook-id"] as string;
    const timestamp = request.headers["webhook-timestamp"] as string;
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
    const given = Buffer.from(String(request.headers["webhook-signature"]).split(",")[1] ?? "", "base64");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      response.writeHead(401).end();
      return;
    }
    await sqs.send(new SendMessageCommand({ QueueUrl: capture.url, MessageBody: body.toString("utf8") }));
    response.writeHead(202, { "content-type": "application/json" }).end('{"status":"accepted"}');
  });
});
server.listen(0, "127.0.0.1", () =>
  console.log(`floor ready http://127.0.0.1:${(server.address() as AddressInfo).port}`),
);
process.on("SIGINT", () => process.exit(0));
