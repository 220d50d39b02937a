/**
 * Runs the generated requests against a local stack with bounded concurrency, then checks what
 * the stack did with them: nothing answered 5xx or outside the contract, the stack stayed up,
 * every accepted lead with a valid email or phone is stored exactly once (one lead per person,
 * one source per delivery), nothing else is stored, and every accepted event is applied.
 * Shared by tests/e2e/fuzz.test.ts and `npm run bench -- fuzz`.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { dynamoClient, sqsClient } from "@leadflow/local";
import { createEntities } from "@leadflow/store";
import fc from "fast-check";
import { Pool } from "undici";
import { caseSpec, planCase } from "./fuzz-cases.ts";
import type { FuzzRoute, PlannedRequest, PlatformLead } from "./fuzz-plan.ts";
import { inParallel, registerGraphLeads, type SentRequest, sendOne, shuffled } from "./fuzz-send.ts";
import { type MinimalExample, shrinkFailures } from "./fuzz-shrink.ts";
import type { FuzzSecrets } from "./fuzz-webhooks.ts";

/** Where the stack under test is. */
export interface FuzzTarget {
  url: string;
  /** Control URL of the Meta Graph stand-in. */
  metaGraph: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  queues: Record<"capture" | "events", { url: string; deadLetterUrl: string }>;
}

export interface FuzzOptions {
  /** Generated cases; each is one request or a few (retries, several sources). */
  runs: number;
  seed: number;
  concurrency: number;
  secrets: FuzzSecrets;
  /** How long a queue may go without shrinking, once the requests are sent, before it counts as stuck. */
  drainStallMs: number;
  /** Shrink a failing case of each of the `groups` most frequent wrong answers, for `timeLimitMs` each. */
  shrink?: { groups: number; timeLimitMs: number };
  log?: (line: string) => void;
}

export interface FuzzFailure {
  kind: "answer" | "stack" | "storage" | "events";
  route: FuzzRoute | "(after the run)";
  /** Groups failures of one cause: route, status and what the contract allowed. */
  group: string;
  what: string;
  detail: string;
  /** The generated case that showed it (its index in the run), for answers. */
  caseIndex?: number;
}

export interface FuzzReport {
  seed: number;
  runs: number;
  run: string;
  requests: number;
  byRoute: Record<string, Record<string, number>>;
  serverErrors: number;
  leadsExpected: number;
  leadsCreated: number;
  leadsStoredRight: number;
  eventsAccepted: number;
  eventsApplied: number;
  deadLettered: { capture: number; events: number };
  sendSeconds: number;
  settleSeconds: number;
  failures: FuzzFailure[];
  /** Minimal examples of the wrong answers, when shrinking was asked for. */
  minimal: MinimalExample[];
}

export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => undefined);
  const run = randomUUID().slice(0, 8);
  const stack = stackProbe(target);
  const failures: FuzzFailure[] = [];

  await stack.waitDrained("capture", options.drainStallMs);
  const leadsBefore = new Set(await stack.leadIds());
  const deadLettersBefore = { capture: await stack.depth("capture", true), events: await stack.depth("events", true) };

  const pool = new Pool(target.url, { connections: options.concurrency, headersTimeout: 30_000, bodyTimeout: 30_000 });
  try {
    const anchors = await createAnchors(pool, stack, run, Math.max(2, Math.ceil(options.runs / 150)), options);
    log(`fuzz: seed ${options.seed}, ${options.runs} cases, run ${run}, ${anchors.length} anchor leads`);

    const specs = fc.sample(caseSpec, { seed: options.seed, numRuns: options.runs });
    const cases = specs.map((spec, index) => {
      const planned = planCase(spec, run, index, options.secrets);
      for (const request of planned.requests) request.caseIndex = index;
      return planned;
    });
    await registerGraphLeads(
      target.metaGraph,
      cases.flatMap((planned) => planned.graphLeads ?? []),
    );
    const requests = shuffled(
      cases.flatMap((planned) => planned.requests),
      options.seed,
    );

    const sendStarted = performance.now();
    const sent = await sendAll(pool, requests, anchors, options.concurrency, failures, log);
    const sendSeconds = (performance.now() - sendStarted) / 1000;

    const settleStarted = performance.now();
    const health = await pool.request({ method: "GET", path: "/health" }).catch((error: Error) => error);
    if (health instanceof Error || health.statusCode !== 200) {
      const detail = health instanceof Error ? health.message : `answered ${health.statusCode}`;
      failures.push(afterRun("stack", "GET /health after the run", detail));
    } else await health.body.dump();
    for (const queue of ["capture", "events"] as const) {
      const drained = await stack.waitDrained(queue, options.drainStallMs).then(
        () => true,
        () => false,
      );
      if (!drained) {
        const depth = await stack.depth(queue, false);
        failures.push(
          afterRun(
            "stack",
            `the ${queue} queue to empty`,
            `${depth} message(s) still on it, none handled for ${options.drainStallMs / 1000} s: a message keeps failing and is retried`,
          ),
        );
      }
    }
    const settleSeconds = (performance.now() - settleStarted) / 1000;

    const storage = await checkStorage(stack, sent, leadsBefore, anchors, failures);
    const events = await checkEvents(stack, sent, anchors, failures);
    const minimal = options.shrink
      ? await shrinkFailures(
          failures,
          {
            pool,
            seed: options.seed,
            run,
            firstFreeIndex: options.runs + 1,
            anchors,
            secrets: options.secrets,
            metaGraph: target.metaGraph,
          },
          options.shrink,
        )
      : [];
    const byRoute: FuzzReport["byRoute"] = {};
    for (const { request, status } of sent) {
      const counts = byRoute[request.route] ?? {};
      byRoute[request.route] = counts;
      const key = status === undefined ? "no answer" : String(status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return {
      seed: options.seed,
      runs: options.runs,
      run,
      requests: sent.length,
      byRoute,
      serverErrors: sent.filter(({ status }) => status === undefined || status >= 500).length,
      ...storage,
      ...events,
      deadLettered: {
        capture: (await stack.depth("capture", true)) - deadLettersBefore.capture,
        events: (await stack.depth("events", true)) - deadLettersBefore.events,
      },
      sendSeconds,
      settleSeconds,
      failures,
      minimal,
    };
  } finally {
    await pool.close();
  }
}

function afterRun(kind: FuzzFailure["kind"], what: string, detail: string): FuzzFailure {
  return { kind, route: "(after the run)", group: `${kind}: ${what}`, what, detail };
}

/** Reads the stack's table and queues directly (tests and benchmarks only: a scan). */
function stackProbe(target: FuzzTarget) {
  const sqs = sqsClient(target.sqsEndpoint);
  const entities = createEntities(dynamoClient(target.dynamodbEndpoint), target.tableName);
  const depth = async (queue: "capture" | "events", deadLetter: boolean): Promise<number> => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deadLetter ? target.queues[queue].deadLetterUrl : target.queues[queue].url,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  return {
    entities,
    depth,
    /**
     * Waits until the queue is empty; gives up only when it has not shrunk for `stallMs`, so a
     * slow machine still draining a backlog is told apart from a message that keeps failing.
     */
    async waitDrained(queue: "capture" | "events", stallMs: number): Promise<void> {
      let lowest = Number.POSITIVE_INFINITY;
      let progressAt = Date.now();
      for (let current = await depth(queue, false); current > 0; current = await depth(queue, false)) {
        if (current < lowest) {
          lowest = current;
          progressAt = Date.now();
        }
        if (Date.now() - progressAt > stallMs) throw new Error(`the ${queue} queue stopped emptying`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async leadIds(): Promise<string[]> {
      return (await entities.lead.scan.go({ pages: "all", attributes: ["leadId"] })).data.map((lead) => lead.leadId);
    },
  };
}
type StackProbe = ReturnType<typeof stackProbe>;

/** Leads created before the run, through Google Ads, for the events and read routes to use. */
async function createAnchors(pool: Pool, stack: StackProbe, run: string, count: number, options: FuzzOptions) {
  const emails = Array.from({ length: count }, (_, index) => `anchor-${index}.${run}@fuzz-${run}.example`);
  await inParallel(emails, options.concurrency, async (email, index) => {
    const body = JSON.stringify({
      lead_id: `anchor-${run}-${index}`,
      google_key: options.secrets.GOOGLE_ADS_WEBHOOK_KEY,
      user_column_data: [{ column_id: "EMAIL", string_value: email }],
    });
    const answer = await pool.request({
      method: "POST",
      path: "/webhooks/google-ads",
      headers: { "content-type": "application/json" },
      body,
    });
    await answer.body.dump();
    if (answer.statusCode !== 200) throw new Error(`Creating anchor lead ${index} answered ${answer.statusCode}`);
  });
  await stack.waitDrained("capture", options.drainStallMs);
  return inParallel(emails, options.concurrency, async (email) => {
    const answer = await pool.request({
      method: "GET",
      path: `/leads?email=${encodeURIComponent(email)}`,
      headers: { "x-api-key": options.secrets.ADMIN_API_KEY },
    });
    const { items } = (await answer.body.json()) as { items: { id: string }[] };
    const id = items[0]?.id;
    if (!id) throw new Error("An anchor lead was not stored: the fuzz run cannot start");
    return id;
  });
}

async function sendAll(
  pool: Pool,
  requests: PlannedRequest[],
  anchors: string[],
  concurrency: number,
  failures: FuzzFailure[],
  log: (line: string) => void,
): Promise<SentRequest[]> {
  let done = 0;
  return inParallel(requests, concurrency, async (request): Promise<SentRequest> => {
    if (++done % 1000 === 0) log(`fuzz: ${done} of ${requests.length} requests sent`);
    const { status, expected, body, failure } = await sendOne(pool, request, anchors);
    if (failure) {
      failures.push({
        kind: "answer",
        route: request.route,
        what: request.what,
        caseIndex: request.caseIndex,
        ...failure,
      });
    }
    const sent: SentRequest = { request, status, expected };
    if (request.events && status === 202) {
      sent.acceptedEvents = (JSON.parse(body) as { accepted?: string[] }).accepted ?? [];
    }
    return sent;
  });
}

interface ExpectedPerson {
  identity: { email?: string; phone?: string };
  sources: Map<string, string>;
}

const sourceKey = (source: string, platformLeadId: string) => `${source}\u0000${platformLeadId}`;

/** Every acknowledged, identifiable lead stored once with all its sources; nothing else stored. */
async function checkStorage(
  stack: StackProbe,
  sent: SentRequest[],
  leadsBefore: Set<string>,
  anchors: string[],
  failures: FuzzFailure[],
) {
  const persons = new Map<string, ExpectedPerson>();
  const refused = new Map<string, string>();
  const described = new Map<string, string>();
  const acknowledged = new Set<string>();
  for (const { request, status, expected } of sent) {
    const accepted = status !== undefined && expected.accepted.includes(status);
    for (const lead of request.leads ?? []) {
      const key = sourceKey(lead.source, lead.platformLeadId);
      described.set(key, request.what);
      if (accepted) acknowledged.add(key);
    }
  }
  for (const { request } of sent) {
    for (const lead of request.leads ?? []) {
      const key = sourceKey(lead.source, lead.platformLeadId);
      if (!acknowledged.has(key) || !lead.identity) {
        refused.set(key, request.what);
        continue;
      }
      const personKey = personOf(lead);
      const person = persons.get(personKey) ?? { identity: {}, sources: new Map() };
      person.identity = { ...person.identity, ...lead.identity };
      person.sources.set(key, request.what);
      persons.set(personKey, person);
    }
  }

  const created = (
    await stack.entities.lead.scan.go({ pages: "all", attributes: ["leadId", "emails", "phones", "sources"] })
  ).data.filter((lead) => !leadsBefore.has(lead.leadId) && !anchors.includes(lead.leadId));
  const byEmail = new Map<string, typeof created>();
  const byPhone = new Map<string, typeof created>();
  for (const lead of created) {
    for (const email of lead.emails) byEmail.set(email, [...(byEmail.get(email) ?? []), lead]);
    for (const phone of lead.phones) byPhone.set(phone, [...(byPhone.get(phone) ?? []), lead]);
  }
  const matched = new Set<string>();
  let storedRight = 0;
  for (const person of persons.values()) {
    const { email, phone } = person.identity;
    const found = email ? (byEmail.get(email) ?? []) : phone ? (byPhone.get(phone) ?? []) : [];
    const [first] = person.sources.values();
    const what = first ?? "?";
    if (found.length !== 1) {
      failures.push({
        kind: "storage",
        route: "POST /webhooks/{source}",
        group:
          found.length === 0
            ? "storage: an accepted lead was never stored"
            : "storage: a lead was stored more than once",
        what,
        detail: `${found.length} leads for ${email ? "the email" : "the phone"} of ${person.sources.size} accepted deliveries`,
      });
      for (const lead of found) matched.add(lead.leadId);
      continue;
    }
    const lead = found[0] as (typeof created)[number];
    matched.add(lead.leadId);
    const stored = new Set(
      (lead.sources as { source: string; platformLeadId: string }[]).map((s) => sourceKey(s.source, s.platformLeadId)),
    );
    const missing = [...person.sources.keys()].filter((key) => !stored.has(key));
    const extra = [...stored].filter((key) => !person.sources.has(key));
    if (missing.length > 0 || extra.length > 0) {
      failures.push({
        kind: "storage",
        route: "POST /webhooks/{source}",
        group: "storage: a lead's sources are not its accepted deliveries",
        what: described.get(missing[0] ?? extra[0] ?? "") ?? what,
        detail: `${stored.size} sources stored, ${person.sources.size} expected (${missing.length} missing, ${extra.length} unexpected)`,
      });
    } else storedRight++;
  }
  for (const lead of created) {
    if (matched.has(lead.leadId)) continue;
    const sources = (lead.sources as { source: string; platformLeadId: string }[]).map((s) =>
      sourceKey(s.source, s.platformLeadId),
    );
    const from = sources.map((key) => refused.get(key) ?? described.get(key)).find(Boolean);
    failures.push({
      kind: "storage",
      route: "POST /webhooks/{source}",
      group: "storage: a lead was stored that should not have been",
      what:
        from ??
        `lead ${lead.leadId} from ${sources.map((key) => key.replace("\u0000", " ")).join(", ") || "no source"}`,
      detail: "no accepted delivery with a valid email or phone names it",
    });
  }
  if (created.length !== persons.size) {
    failures.push(
      afterRun(
        "storage",
        "leads created by the run",
        `${created.length} leads created besides the anchors, ${persons.size} expected`,
      ),
    );
  }
  return { leadsExpected: persons.size, leadsCreated: created.length, leadsStoredRight: storedRight };
}

function personOf(lead: PlatformLead): string {
  return lead.person ?? lead.identity?.email ?? lead.identity?.phone ?? `${lead.source}:${lead.platformLeadId}`;
}

/** Every event named in a 202 answer is stored and folded into its lead's score. */
async function checkEvents(stack: StackProbe, sent: SentRequest[], anchors: string[], failures: FuzzFailure[]) {
  const acceptedByLead = new Map<string, Map<string, string>>();
  for (const { request, acceptedEvents } of sent) {
    if (!request.events || !acceptedEvents) continue;
    const leadId = anchors[request.events.anchor % anchors.length] as string;
    const ids = acceptedByLead.get(leadId) ?? new Map<string, string>();
    for (const id of acceptedEvents) ids.set(id, request.what);
    acceptedByLead.set(leadId, ids);
  }
  let accepted = 0;
  let applied = 0;
  for (const [leadId, ids] of acceptedByLead) {
    const stored = new Map(
      (await stack.entities.event.query.byLead({ leadId }).go({ pages: "all" })).data.map((event) => [
        event.eventId,
        event,
      ]),
    );
    for (const [id, what] of ids) {
      accepted++;
      const event = stored.get(id);
      if (event && event.applied !== false) {
        applied++;
        continue;
      }
      failures.push({
        kind: "events",
        route: "POST /leads/{id}/events",
        group: event
          ? "events: an accepted event was stored but never applied"
          : "events: an accepted event was never stored",
        what,
        detail: `event ${JSON.stringify(id.slice(0, 60))} answered 202`,
      });
    }
  }
  return { eventsAccepted: accepted, eventsApplied: applied };
}

/** The failures by cause, each with its count and a few of the requests that showed it. */
export function describeFailures(report: FuzzReport, examplesPerGroup = 3): string {
  const groups = new Map<string, FuzzFailure[]>();
  for (const failure of report.failures) groups.set(failure.group, [...(groups.get(failure.group) ?? []), failure]);
  const lines = [
    `${report.failures.length} failure(s) of ${groups.size} kind(s) in ${report.requests} requests ` +
      `(seed ${report.seed}, ${report.runs} cases; replay with LEADFLOW_FUZZ_SEED=${report.seed} LEADFLOW_FUZZ_RUNS=${report.runs})`,
  ];
  for (const [group, members] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`- ${group} (×${members.length})`);
    for (const failure of members.slice(0, examplesPerGroup))
      lines.push(`    · ${failure.what}\n      ${failure.detail}`);
  }
  if (report.minimal.length > 0)
    lines.push("Minimal examples (fast-check shrank a failing case while it failed the same way):");
  for (const { group, example, shrinks } of report.minimal)
    lines.push(`- ${group} (${shrinks} shrinks)\n    · ${example}`);
  return lines.join("\n");
}
