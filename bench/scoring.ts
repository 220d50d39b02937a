/**
 * Scoring benchmark. 1: scoring one lead with 1,000 events in its history, CPU only. 2: `POST
 * /leads/{id}/events` on the local stack in this process: 1,000 leads, then 10,000 events (one
 * per request) at concurrency 32, until every event is applied and checked. Writes the results to
 * docs/benchmarks.md.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import {
  applyEvents,
  type BehaviourEvent,
  foldEvents,
  type Lead,
  type LeadView,
  parseScoring,
  pointsFor,
  qualify,
} from "@leadflow/core";
import { developmentSecrets, dynamoClient, type LocalStack, startLocalStack } from "@leadflow/local";
import { createEntities } from "@leadflow/store";
import { Pool } from "undici";
import { descendantsOf, load, type Percentiles, peakMemoryMB, percentiles } from "./load.ts";
import { writeBlock } from "./report.ts";

const historySize = Number(process.env.BENCH_HISTORY ?? 1_000);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 10_000);
const warmupIterations = Number(process.env.BENCH_WARMUP ?? 2_000);
const leadCount = Number(process.env.BENCH_LEADS ?? 1_000);
const eventsPerLead = Number(process.env.BENCH_EVENTS_PER_LEAD ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const dayMs = 24 * 60 * 60 * 1000;
const spanDays = 90;
const model = parseScoring(readFileSync("config/scoring.yaml", "utf8"));

/** Deterministic (mulberry32), so every run scores the same histories. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pages = [
  "/",
  "/features",
  "/integrations",
  "/blog/lead-scoring",
  "/docs/start",
  "/pricing",
  "/pricing?plan=team",
];
const campaigns = ["welcome", "nurture-1", "nurture-2", "product-update"];
const eventMix: [share: number, type: string, properties: (pick: <T>(items: T[]) => T) => Record<string, string>][] = [
  [0.5, "page_view", (pick) => ({ url: `https://example.com${pick(pages)}`, referrer: "https://www.google.com/" })],
  [0.2, "email_open", (pick) => ({ campaign: pick(campaigns) })],
  [0.12, "email_click", (pick) => ({ campaign: pick(campaigns), url: "https://example.com/features" })],
  [0.08, "form_submit", (pick) => ({ form: pick(["newsletter", "ebook", "contact"]) })],
  [0.06, "webinar_attended", (pick) => ({ webinar: pick(["scoring-101", "automation-deep-dive"]) })],
  [0.04, "demo_request", () => ({ form: "demo" })],
];

function fromMix(roll: number): (typeof eventMix)[number] {
  let rest = roll;
  for (const entry of eventMix) {
    rest -= entry[0];
    if (rest < 0) return entry;
  }
  return eventMix[0] as (typeof eventMix)[number];
}

/** `count` events of the mix at random times over the `spanDays` before `end`, oldest first. */
function eventHistory(idPrefix: string, count: number, end: number, random: () => number): BehaviourEvent[] {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)] as T;
  const times = Array.from({ length: count }, () => end - random() * spanDays * dayMs).sort((a, b) => a - b);
  return times.map((at, index) => {
    const [, type, properties] = fromMix(random());
    const id = `${idPrefix}-${String(index).padStart(5, "0")}`;
    return { id, type, at: new Date(at).toISOString(), properties: properties(pick) };
  });
}

/** Milliseconds per call of `score` (which returns a score total, so its work is kept), after a warm-up. */
function timeScoring(score: () => number) {
  const samples = new Float64Array(iterations);
  let total = 0;
  for (let index = 0; index < warmupIterations; index++) total += score();
  for (let index = 0; index < iterations; index++) {
    const started = process.hrtime.bigint();
    total += score();
    samples[index] = Number(process.hrtime.bigint() - started) / 1e6;
  }
  if (Number.isNaN(total)) throw new Error("scoring returned NaN");
  return percentiles(samples);
}

function benchLead(now: number): Lead {
  const createdAt = new Date(now - spanDays * dayMs).toISOString();
  return {
    id: "bench-lead",
    email: "ada@acme-robotics.com",
    emails: ["ada@acme-robotics.com"],
    phones: [],
    firstName: "Ada",
    jobTitle: "VP Marketing",
    company: "Acme Robotics",
    country: "US",
    custom: { company_size: "250" },
    consent: {},
    sources: [],
    createdAt,
    updatedAt: createdAt,
    version: 1,
  };
}

function benchCpu() {
  const now = Date.now();
  const nowIso = new Date(now).toISOString();
  const stored = eventHistory("evt", historySize, now - 60_000, seededRandom(1));
  const { pending: _pending, ...folded } = applyEvents(benchLead(now), stored, model, nowIso);
  const fresh: BehaviourEvent = { id: "evt-new", type: "page_view", at: nowIso, properties: { url: "/pricing" } };
  const cause = { kind: "rescore", previousVersion: "older" } as const;
  const total = (lead: Lead) => lead.qualification?.score.total ?? 0;
  const cases = {
    rescore: timeScoring(
      () =>
        qualify(folded, model, { now: nowIso, version: 2, cause, engagement: foldEvents(stored, model) }).qualification
          .score.total,
    ),
    replay: timeScoring(() => total(applyEvents(folded, [fresh], model, nowIso, stored))),
    incremental: timeScoring(() => total(applyEvents(folded, [fresh], model, nowIso))),
  };
  const { score, temperature } = folded.qualification ?? { score: undefined, temperature: undefined };
  return { ...cases, lead: `score ${score?.fit} fit + ${score?.engagement} engagement, ${temperature}` };
}

async function drained(stack: LocalStack): Promise<void> {
  while ((await stack.pendingMessages()) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Leads through the Google Ads webhook (as in the README), then their ids from `GET /leads?email=`. */
async function createLeads(stack: LocalStack, pool: Pool, admin: Record<string, string>): Promise<string[]> {
  const run = randomUUID().slice(0, 8);
  const emails = Array.from({ length: leadCount }, (_, index) => `bench-${run}-${index}@example.com`);
  const webhooks = emails.map((email, index) => ({
    path: "/webhooks/google-ads",
    method: "POST" as const,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      lead_id: `bench-${run}-${index}`,
      google_key: process.env.GOOGLE_ADS_WEBHOOK_KEY || developmentSecrets.GOOGLE_ADS_WEBHOOK_KEY,
      is_test: false,
      user_column_data: [
        { column_id: "EMAIL", string_value: email },
        { column_id: "FULL_NAME", string_value: `Bench Lead ${index}` },
        { column_id: "JOB_TITLE", string_value: index % 3 ? "Marketing Manager" : "VP Sales" },
        { column_id: "COUNTRY", string_value: "US" },
      ],
    }),
  }));
  const created = await load(pool, webhooks, { expected: 200, concurrency });
  if (created.failures > 0) throw new Error(`${created.failures} leads were refused`);
  await drained(stack);
  const lookups = emails.map((email) => ({
    path: `/leads?email=${encodeURIComponent(email)}`,
    method: "GET" as const,
  }));
  const found = await load(
    pool,
    lookups.map((lookup) => ({ ...lookup, headers: admin })),
    { expected: 200, concurrency, readBodies: true },
  );
  return found.bodies.map((body, index) => {
    const id = (body as { items: LeadView[] }).items[0]?.id;
    if (!id) throw new Error(`No lead found for ${emails[index]}`);
    return id;
  });
}

/** Applied events from the leads' history (`GET /leads/{id}`); duplicates from the rule counts stored on each lead. */
async function verify(
  stack: LocalStack,
  pool: Pool,
  admin: Record<string, string>,
  sent: Map<string, BehaviourEvent[]>,
) {
  const ids = [...sent.keys()];
  const views = await load(
    pool,
    ids.map((id) => ({ path: `/leads/${id}`, method: "GET" as const, headers: admin })),
    { expected: 200, concurrency, readBodies: true },
  );
  const applied = views.bodies.reduce<number>((sum, body, index) => {
    const expected = new Set(sent.get(ids[index] as string)?.map((event) => `event:${event.id}`));
    return sum + (body as LeadView).history.filter((entry) => expected.has(entry.id)).length;
  }, 0);
  const { lead } = createEntities(dynamoClient(stack.endpoints.dynamodb), stack.tableName);
  const { data } = await lead.scan.go({ pages: "all", attributes: ["leadId", "qualification"] });
  const duplicates = data.reduce((sum, item) => {
    const events = sent.get(item.leadId) ?? [];
    const expected = events.reduce((count, event) => count + pointsFor(event, model).length, 0);
    const state = (item.qualification as Lead["qualification"])?.engagement ?? {};
    const counted = Object.values(state).reduce((count, rule) => count + rule.count, 0);
    return sum + Math.max(0, counted - expected);
  }, 0);
  return { applied, duplicates };
}

async function benchEvents() {
  const stack = await startLocalStack({ port: 0, fast: true, environment: { POWERTOOLS_LOG_LEVEL: "ERROR" } });
  const pool = new Pool(stack.url, { connections: concurrency, pipelining: 1 });
  // The stack gives each handler its own secrets; this process reads them as the stack does.
  const apiKey = process.env.ADMIN_API_KEY || developmentSecrets.ADMIN_API_KEY;
  const admin = { "x-api-key": apiKey, "content-type": "application/json" };
  try {
    const leadsStarted = performance.now();
    const leadIds = await createLeads(stack, pool, admin);
    const leadsSeconds = (performance.now() - leadsStarted) / 1000;
    const random = seededRandom(2);
    const sent = new Map(leadIds.map((id) => [id, eventHistory(`evt-${id}`, eventsPerLead, Date.now(), random)]));
    const requests = Array.from({ length: leadCount * eventsPerLead }, (_, index) => {
      const leadId = leadIds[index % leadCount] as string;
      const event = sent.get(leadId)?.[Math.floor(index / leadCount)];
      return { path: `/leads/${leadId}/events`, method: "POST" as const, headers: admin, body: JSON.stringify(event) };
    });
    const started = performance.now();
    const result = await load(pool, requests, { expected: 202, concurrency });
    const appliedDuringLoad = requests.length - (await stack.pendingMessages());
    await drained(stack);
    const appliedSeconds = (performance.now() - started) / 1000;
    const checked = await verify(stack, pool, admin, sent);
    const memory = {
      benchMB: peakMemoryMB(process.pid, { withChildren: false }),
      workerMB: descendantsOf(process.pid)
        .map((pid) => peakMemoryMB(pid, { withChildren: false }))
        .reduce((a, b) => a + b, 0),
    };
    return { ...result, ...checked, ...memory, sent: requests.length, leadsSeconds, appliedDuringLoad, appliedSeconds };
  } finally {
    await pool.close();
    await stack.stop();
  }
}

const ms = (value: number) => (value < 10 ? `${value.toFixed(3)} ms` : `${value.toFixed(1)} ms`);
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

function scoringTable(cpu: ReturnType<typeof benchCpu>, events: Awaited<ReturnType<typeof benchEvents>>): string {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
  const row = (what: string, { p50, p99, max }: Percentiles) =>
    `| ${what} | ${ms(p50)} | ${ms(p99)} | ${ms(max)} | ${verdict(p50 < 1)} |`;
  const rate = (count: number, seconds: number) => `${(count / seconds).toFixed(0)}/s`;
  return [
    `Run: ${new Date().toISOString().slice(0, 10)} · \`npm run bench -- scoring\` · ${machine}`,
    "",
    `**Scoring one lead with ${historySize} events** over ${spanDays} days (CPU only, shipped config; the lead: ${cpu.lead}). ${iterations} timed calls each, after ${warmupIterations} to warm up.`,
    "",
    "| | median | p99 | max | median < 1 ms |",
    "| --- | --- | --- | --- | --- |",
    row(
      `full re-score from ${historySize} stored events (\`foldEvents\` + \`qualify\`, as \`npm run rescore\`)`,
      cpu.rescore,
    ),
    row(`new event after a config change (\`applyEvents\` replaying ${historySize + 1} events)`, cpu.replay),
    row(`new event, ${historySize} already folded in (\`applyEvents\`, the normal path)`, cpu.incremental),
    "",
    `**\`POST /leads/{id}/events\`** on the local stack (\`startLocalStack\`, \`fast\`, in the benchmark process): ${leadCount} leads created through the Google Ads webhook (${events.leadsSeconds.toFixed(1)} s incl. ingestion and lookup), then ${events.sent} events, ${eventsPerLead} per lead, one per request, at concurrency ${concurrency}.`,
    "",
    "| | |",
    "| --- | --- |",
    `| acknowledged (202) per second | ${rate(events.sent, events.seconds)} (${events.seconds.toFixed(1)} s) |`,
    `| latency p50 / p99 / max | ${ms(events.p50)} / ${ms(events.p99)} / ${ms(events.max)} |`,
    `| errors (non-202 answers) | ${events.failures} |`,
    `| applied while the load ran | ${events.appliedDuringLoad} |`,
    `| all applied after (from the first request) | ${events.appliedSeconds.toFixed(1)} s (${rate(events.sent, events.appliedSeconds)} overall) |`,
    `| events applied / sent (history of all ${leadCount} leads) | ${events.applied} / ${events.sent} — ${verdict(events.applied === events.sent)} |`,
    `| duplicates (rule counts on the leads vs the events sent) | ${events.duplicates} — ${verdict(events.duplicates === 0)} |`,
    `| peak memory (RSS) | ${events.benchMB.toFixed(0)} MB this process (client, gateway, SQS emulator) + ${events.workerMB.toFixed(0)} MB queue worker (DynamoDB emulator) |`,
  ].join("\n");
}

console.log(
  `scoring benchmark: ${historySize}-event lead, ${iterations} iterations; ${leadCount} × ${eventsPerLead} events`,
);
const cpu = benchCpu();
console.log("cpu", cpu);
const events = await benchEvents();
const { bodies: _bodies, ...summary } = events;
console.log("events", summary);
writeBlock("scoring", "Scoring (`npm run bench -- scoring`)", scoringTable(cpu, events));
