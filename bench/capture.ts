/**
 * Capture benchmark: 10,000 signed `form` leads at concurrency 32 against `npm start`, then the
 * same load against the floor (bench/floor-server.ts). Reports acknowledgements per second,
 * p50/p99 latency, the time until every lead is stored, duplicates and peak memory, and writes
 * them to docs/benchmarks.md.
 */
import { randomUUID } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { GetQueueAttributesCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { developmentSecrets, dynamoClient, localTableName, sqsClient } from "@leadflow/local";
import { createEntities } from "@leadflow/store";
import { Webhook } from "standardwebhooks";
import { type Dispatcher, Pool } from "undici";
import { load, peakMemoryMB, signedJsonHeaders } from "./load.ts";
import { writeResults } from "./report.ts";
import { startProcess, startStackProcess, stopProcess } from "./stack-process.ts";

const total = Number(process.env.BENCH_LEADS ?? 10_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** Sent first and not measured, to both targets alike, so the JIT has compiled the hot path. */
const warmup = Number(process.env.BENCH_WARMUP ?? 1_000);
const secret = developmentSecrets.FORM_SIGNING_SECRET;

/** `first` numbers the leads, so every lead of a run (warm-up included) is a different person. */
function prepare(count: number, first = 0): Dispatcher.RequestOptions[] {
  const run = randomUUID().slice(0, 8);
  const webhook = new Webhook(secret);
  return Array.from({ length: count }, (_, offset) => {
    const index = first + offset;
    const id = `msg_${run}_${index}`;
    const body = JSON.stringify({
      email: `bench-${run}-${index}@example.com`,
      first_name: "Bench",
      last_name: `Lead ${index}`,
      phone: `+1415${String(2_000_000 + index).padStart(7, "0")}`,
      company: "Benchmark Inc",
      utm_source: "bench",
    });
    return {
      path: "/webhooks/form",
      method: "POST" as const,
      headers: signedJsonHeaders(webhook, id, body),
      body,
    };
  });
}

async function loadForms(origin: string, requests: Dispatcher.RequestOptions[]) {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  const result = await load(pool, requests, { expected: 202, concurrency });
  await pool.close();
  return result;
}

/** The running stack's emulators. */
async function stackEmulators(endpoints: { dynamodb: string; sqs: string }) {
  const dynamodb = dynamoClient(endpoints.dynamodb);
  const sqs = sqsClient(endpoints.sqs);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: "leadflow-capture" }));
  return {
    dynamodb,
    /** Messages waiting or being handled on the capture queue. */
    async pending(): Promise<number> {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
    },
  };
}

/** Once the queue is empty every message was handled, so the count is final. */
async function waitUntilStored(stack: Awaited<ReturnType<typeof stackEmulators>>, expected: number, startedAt: number) {
  while ((await stack.pending()) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  const seconds = (performance.now() - startedAt) / 1000;
  const leads = await scanLeads(stack.dynamodb);
  if (leads.length < expected)
    throw new Error(`The queue is empty but ${leads.length} of ${expected} leads are stored`);
  return { seconds, leads };
}

async function scanLeads(client: ReturnType<typeof dynamoClient>) {
  const { lead } = createEntities(client, localTableName);
  const { data } = await lead.scan.go({ pages: "all", attributes: ["email", "sources"] });
  return data.map((item) => ({ email: item.email ?? "", sources: (item.sources as unknown[]).length }));
}

async function benchStack() {
  const { child, origin, endpoints } = await startStackProcess();
  const emulators = await stackEmulators(endpoints);
  await loadForms(origin, prepare(warmup));
  await waitUntilStored(emulators, warmup, performance.now());
  const requests = prepare(total, warmup);
  const startedAt = performance.now();
  const result = await loadForms(origin, requests);
  const ingestedDuringLoad = total - (await emulators.pending());
  const stored = await waitUntilStored(emulators, warmup + total, startedAt);
  const memoryMB = peakMemoryMB(child.pid as number);
  await stopProcess(child);
  const duplicates =
    stored.leads.reduce((sum, lead) => sum + Math.max(0, lead.sources - 1), 0) +
    (stored.leads.length - new Set(stored.leads.map((lead) => lead.email)).size);
  return {
    ...result,
    ingestedDuringLoad,
    storedSeconds: stored.seconds,
    stored: stored.leads.length - warmup,
    duplicates,
    memoryMB,
  };
}

async function benchFloor() {
  const { child, output } = await startProcess(["bench/floor-server.ts"], /floor ready/, {
    FORM_SIGNING_SECRET: secret,
  });
  const origin = /floor ready (\S+)/.exec(output())?.[1] as string;
  await loadForms(origin, prepare(warmup));
  const result = await loadForms(origin, prepare(total));
  const memoryMB = peakMemoryMB(child.pid as number);
  child.kill("SIGKILL");
  return { ...result, memoryMB };
}

console.log(`capture benchmark: ${total} signed form leads (after ${warmup} to warm up), concurrency ${concurrency}`);
const floor = await benchFloor();
console.log("floor", floor);
const stack = await benchStack();
console.log("stack", stack);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
await writeResults("capture", {
  date: new Date().toISOString().slice(0, 10),
  machine,
  command: "npm run bench -- capture",
  total,
  warmup,
  concurrency,
  floor,
  stack,
});
