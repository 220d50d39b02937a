/**
 * Nurture benchmark. 1: the `nurture-step` schedule (functions/nurture/step-tick.ts, the real
 * handler) over a table of 100,000 enrolled leads of which 1,000 are due: DynamoDB items read
 * (a client middleware sums each Query's Count and ScannedCount) and wall time, the queue being
 * fauxqs in this process; then the due index read alone, the send replaced by a counter.
 * 2: templates rendered per second (`renderStep` over the shipped sequence), email HTML and SMS.
 * dynalite runs in this process. Seeding is not measured. Writes the results to docs/benchmarks.md.
 */

import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { loadConfig } from "@leadflow/config";
import { type CompiledSequence, type Enrolment, type Lead, renderStep } from "@leadflow/core";
import { ensureQueues, ensureTable, sqsClient, startDynamo, startSqs } from "@leadflow/local";
import { environmentNames } from "@leadflow/manifest";
import { dueShards } from "@leadflow/store";
// The entity itself, to write enrolments with the store's own keys (the package exports the store only).
import { createNurtureEntities } from "../packages/store/src/nurture.ts";
import { percentiles } from "./load.ts";
import { writeBlock } from "./report.ts";

const leadCount = Number(process.env.BENCH_LEADS ?? 100_000);
const dueCount = Number(process.env.BENCH_DUE ?? 1_000);
const endedShare = 0.1;
const runs = Number(process.env.BENCH_RUNS ?? 5);
const renderSeconds = Number(process.env.BENCH_RENDER_SECONDS ?? 3);
const itemsTarget = 1_200;
const table = "bench-nurture";
const sequence = loadConfig("config").sequences.byId("cold-reactivation") as CompiledSequence;

interface ReadCounter {
  calls: number;
  count: number;
  scanned: number;
  capacity: number;
  reset(): void;
}

/** Sums what each Query answered: items returned (Count), items examined (ScannedCount), capacity. */
function countReads(client: DynamoDBClient): ReadCounter {
  const counter: ReadCounter = {
    calls: 0,
    count: 0,
    scanned: 0,
    capacity: 0,
    reset() {
      Object.assign(counter, { calls: 0, count: 0, scanned: 0, capacity: 0 });
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "QueryCommand") return next(args);
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = "TOTAL";
      const result = await next(args);
      const output = result.output as {
        Count?: number;
        ScannedCount?: number;
        ConsumedCapacity?: { CapacityUnits?: number };
      };
      counter.calls++;
      counter.count += output.Count ?? 0;
      counter.scanned += output.ScannedCount ?? 0;
      counter.capacity += output.ConsumedCapacity?.CapacityUnits ?? 0;
      return result;
    },
    { step: "initialize", name: "benchReadCounter" },
  );
  return counter;
}

/** Enrolments as the store writes them (its ElectroDB entity, so the same keys and due index). */
async function seed(
  client: DynamoDBClient,
  now: number,
): Promise<{ seconds: number; due: number; later: number; ended: number }> {
  const { enrolment } = createNurtureEntities(client, table);
  const started = performance.now();
  const ended = Math.round(leadCount * endedShare);
  const items = (index: number) => {
    const leadId = `lead-${String(index).padStart(6, "0")}`;
    const enrolledAt = new Date(now - 20 * 86_400_000).toISOString();
    const sent = [{ stepId: "step-1", messageId: `nurture-e${index}-0`, channel: "email", at: enrolledAt }];
    const base: Enrolment = {
      leadId,
      sequenceId: sequence.id,
      enrolmentId: `e${index}`,
      digest: sequence.digest,
      label: "3",
      status: "active",
      stepIndex: 3,
      enrolledAt,
      sent: sent as Enrolment["sent"],
      version: 2,
    };
    let value: Record<string, unknown>;
    if (index < dueCount) {
      // Due within the last 5 minutes, as at a tick.
      value = {
        ...base,
        dueAt: new Date(now - 1 - (index % 300_000)).toISOString(),
        dueShard: String(index % dueShards),
      };
    } else if (index < leadCount - ended) {
      // Due later: from a minute to 30 days on.
      const later = 60_000 + ((index * 7_919) % (30 * 86_400_000));
      value = { ...base, dueAt: new Date(now + later).toISOString(), dueShard: String(index % dueShards) };
    } else {
      value = { ...base, status: "completed", stepIndex: 6, endedAt: enrolledAt };
    }
    return value as Parameters<typeof enrolment.create>[0];
  };
  // ElectroDB's batch put: BatchWriteItem of 25, several at once, unprocessed items sent again.
  for (let from = 0; from < leadCount; from += 5_000) {
    const chunk = Array.from({ length: Math.min(5_000, leadCount - from) }, (_, offset) => items(from + offset));
    const { unprocessed } = await enrolment.put(chunk).go({ concurrency: 8 });
    if (unprocessed.length > 0) throw new Error(`${unprocessed.length} enrolments were not written`);
  }
  return {
    seconds: (performance.now() - started) / 1000,
    due: dueCount,
    later: leadCount - dueCount - ended,
    ended,
  };
}

async function benchTick() {
  const dynamo = await startDynamo();
  const sqsEmulator = await startSqs();
  try {
    const sqs = sqsClient(sqsEmulator.endpoint);
    const queues = await ensureQueues(sqs);
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsEmulator.endpoint,
      [environmentNames.tableName]: table,
      [environmentNames.queueUrl("nurture")]: queues.nurture.url,
      POWERTOOLS_LOG_LEVEL: "ERROR",
    });
    const lambda = await import("@leadflow/lambda");
    // Loaded already (through @leadflow/local): its log level is set here, not from the environment.
    lambda.logger.setLogLevel("ERROR");
    const client = lambda.clients.dynamodb();
    await ensureTable(client, table);
    const now = Date.now();
    const seeded = await seed(client, now);
    const reads = countReads(client);
    const { handler } = await import("../functions/nurture/step-tick.ts");
    const { lambdaContext } = await import("../packages/local/src/lambda-runtime.ts");
    const queued = async () => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queues.nurture.url,
          AttributeNames: ["ApproximateNumberOfMessages"],
        }),
      );
      return Number(Attributes.ApproximateNumberOfMessages);
    };

    // The handler as the schedule runs it; the queue emptied between runs.
    const tick: { ms: number; items: number; scanned: number; queries: number; capacity: number; queued: number }[] =
      [];
    for (let run = 0; run <= runs; run++) {
      await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.nurture.url }));
      reads.reset();
      const started = performance.now();
      const result = (await handler({}, lambdaContext("nurture-step-tick", 300))) as { queued: number };
      const ms = performance.now() - started;
      // The first run warms the code up (module compilation, connections): not counted.
      if (run > 0)
        tick.push({
          ms,
          items: reads.count,
          scanned: reads.scanned,
          queries: reads.calls,
          capacity: reads.capacity,
          queued: result.queued,
        });
    }
    const onQueue = await queued();

    // The due index alone: `dueSteps` pages, the send replaced by a counter.
    const readOnly: { ms: number; steps: number }[] = [];
    for (let run = 0; run < runs; run++) {
      reads.reset();
      const started = performance.now();
      let steps = 0;
      for await (const page of lambda.nurtureStore().dueSteps(lambda.clock.nowIso())) steps += page.length;
      readOnly.push({ ms: performance.now() - started, steps });
    }
    return { seeded, tick, onQueue, readOnly };
  } finally {
    await sqsEmulator.stop();
    await dynamo.stop();
  }
}

function templateLead(index: number): Lead {
  return {
    id: `lead-${index}`,
    firstName: ["Grace", "Ada", "Katherine", "Margaret"][index % 4],
    company: index % 5 === 0 ? undefined : `Company ${index}`,
    email: `lead-${index}@example.com`,
    emails: [`lead-${index}@example.com`],
    phone: "+12125550101",
    phones: ["+12125550101"],
    custom: {},
    consent: {},
    sources: [],
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 1,
  } as Lead;
}

/** Renders one step for changing leads for `renderSeconds` (after a second to warm up): renders per second. */
function renderRate(stepIds: string[]): { perSecond: number; perRender: ReturnType<typeof percentiles> } {
  const owner = { id: "rep", name: "Ana Ruiz", email: "ana@example.com" };
  const render = (index: number) =>
    renderStep(sequence, stepIds[index % stepIds.length] as string, {
      lead: templateLead(index),
      owner,
      unsubscribeUrl: `https://leads.example/unsubscribe/token-${index}`,
    });
  let sink = 0;
  for (let warm = performance.now(), index = 0; performance.now() - warm < 1000; index++)
    sink += render(index).text.length;
  const samples: number[] = [];
  const started = performance.now();
  for (let index = 0; performance.now() - started < renderSeconds * 1000; index++) {
    const at = performance.now();
    sink += render(index).text.length;
    samples.push(performance.now() - at);
  }
  if (sink === 0) throw new Error("nothing rendered");
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: samples.length / seconds, perRender: percentiles(Float64Array.from(samples)) };
}

const emailSteps = sequence.steps.filter((step) => step.kind === "email").map((step) => step.id);
const smsSteps = sequence.steps.filter((step) => step.kind === "sms").map((step) => step.id);
const rendering = { email: renderRate(emailSteps), sms: renderRate(smsSteps) };
const { seeded, tick, onQueue, readOnly } = await benchTick();

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const itemsRead = Math.max(...tick.map((run) => run.items));
const scannedRead = Math.max(...tick.map((run) => run.scanned));
const queries = Math.max(...tick.map((run) => run.queries));
const capacity = Math.max(...tick.map((run) => run.capacity));
const queuedEach = tick.map((run) => run.queued);
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
const tickMs = tick.map((run) => run.ms);
const readMs = readOnly.map((run) => run.ms);

writeBlock(
  "nurture",
  "Nurture (`npm run bench -- nurture`)",
  [
    `Run: ${new Date().toISOString().slice(0, 10)} · \`npm run bench -- nurture\` · ${machine}`,
    "",
    `**The step tick.** ${leadCount} enrolments in the table (dynalite in this process; seeded in ${seeded.seconds.toFixed(1)} s, not measured): ${seeded.due} due now, ${seeded.later} due later (1 minute to 30 days on), ${seeded.ended} ended (out of the due index). The \`nurture-step\` handler (functions/nurture/step-tick.ts) run ${runs} times after one unmeasured run, its queue fauxqs in this process (emptied between runs); then the due index read alone (\`dueSteps\`, the send replaced by a counter), ${runs} times.`,
    "",
    "| figure | value |",
    "| --- | --- |",
    `| steps queued per tick | ${[...new Set(queuedEach)].join(", ")} (on the queue after the last: ${onQueue}) |`,
    `| DynamoDB Queries per tick | ${queries} |`,
    `| items read per tick (sum of \`Count\`) / examined (\`ScannedCount\`) | ${itemsRead} / ${scannedRead} |`,
    `| consumed capacity (as dynalite reports it) | ${capacity > 0 ? `${capacity} RCU` : "not returned"} |`,
    `| tick wall time, median / max (reads + ${seeded.due} SQS messages in batches of 10) | ${ms(median(tickMs))} / ${ms(Math.max(...tickMs))} |`,
    `| due index read alone, median / max | ${ms(median(readMs))} / ${ms(Math.max(...readMs))} |`,
    "",
    `**Rendering** (\`renderStep\`, the shipped \`cold-reactivation\`, a different lead each time, for ${renderSeconds} s after 1 s of warm-up, one core):`,
    "",
    "| | renders per second | per render p50 / p99 |",
    "| --- | --- | --- |",
    `| email, HTML with its text part (${emailSteps.join(", ")}) | ${rendering.email.perSecond.toFixed(0)} | ${(rendering.email.perRender.p50 * 1000).toFixed(0)} µs / ${(rendering.email.perRender.p99 * 1000).toFixed(0)} µs |`,
    `| SMS (${smsSteps.join(", ")}) | ${rendering.sms.perSecond.toFixed(0)} | ${(rendering.sms.perRender.p50 * 1000).toFixed(0)} µs / ${(rendering.sms.perRender.p99 * 1000).toFixed(0)} µs |`,
    "",
    "| target | result | |",
    "| --- | --- | --- |",
    `| items read per tick ≤ ${itemsTarget} (${seeded.due} due of ${leadCount}) | ${itemsRead} | ${verdict(itemsRead <= itemsTarget && scannedRead <= itemsTarget)} |`,
    `| every due step queued | ${Math.min(...queuedEach)} of ${seeded.due} | ${verdict(queuedEach.every((count) => count === seeded.due))} |`,
  ].join("\n"),
);
process.exit(0);
