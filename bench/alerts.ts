/**
 * Speed-to-lead benchmark: `npm start --fast` in this process, a team whose reps always work and a
 * form source that alerts on arrival; 50 signed leads a second for 60 s (BENCH_ALERT_RATE,
 * BENCH_ALERT_SECONDS). For each lead: the time from its trigger (the `lead.arrived` event, as the
 * escalation recorded it) to its first alert in the outbox, p50/p99 (target p99 < 2 s, the worker
 * yielding to the API as it does). Then each alerted lead's escalation is left to run out, and
 * the state transitions of its execution are read (the local endpoint counts them), from which
 * the Step Functions Standard cost per 10,000 leads follows ($0.025 per 1,000 transitions, the
 * published us-east-1 price). Writes docs/benchmarks.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { developmentSecrets, dynamoClient, type LocalStack, startLocalStack } from "@leadflow/local";
import { createRoutingStore } from "@leadflow/store";
import { Webhook } from "standardwebhooks";
import { percentiles } from "./load.ts";
import { writeBlock } from "./report.ts";

const rate = Number(process.env.BENCH_ALERT_RATE ?? 50);
const seconds = Number(process.env.BENCH_ALERT_SECONDS ?? 60);
const total = rate * seconds;
const pricePerThousandTransitions = 0.025;

const routing = `from: { email: "leadflow alerts <alerts@example.com>", sms: "+14155550000" }
sla: { accept: 5m, remind: 50%, tiers: 2 }
teams:
  sales:
    manager: { id: maria, name: Maria Diaz, email: maria@example.com, phone: "+14155550199" }
    reps:
${["ana", "ben", "cy", "dee"].map((id, index) => `      - { id: ${id}, name: ${id}, email: ${id}@example.com, phone: "+1415555010${index}" }`).join("\n")}
rules:
  - team: sales
`;

interface OutboxItem {
  id: string;
  at: string;
  text: string | null;
  purpose: string | null;
}

async function main() {
  const configDir = mkdtempSync(join(tmpdir(), "leadflow-bench-alerts-"));
  writeFileSync(join(configDir, "routing.yaml"), routing);
  writeFileSync(join(configDir, "sources.yaml"), "sources:\n  hot-form: { type: form, alertOnArrival: true }\n");
  const stack = await startLocalStack({
    port: 0,
    fast: true,
    configDir,
    environment: { POWERTOOLS_LOG_LEVEL: "ERROR" },
  });
  try {
    return await measure(stack);
  } finally {
    await stack.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
}

async function measure(stack: LocalStack) {
  const webhook = new Webhook(developmentSecrets.FORM_SIGNING_SECRET);
  const run = Date.now().toString(36);
  const names = Array.from({ length: total }, (_, index) => `b${run}x${index}`);
  const started = performance.now();
  const sends: Promise<number>[] = [];
  for (const [index, name] of names.entries()) {
    // Paced: lead i leaves at i / rate seconds.
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sends.push(send(stack.url, webhook, name, index));
  }
  const statuses = await Promise.all(sends);
  const sentSeconds = (performance.now() - started) / 1000;

  // Every lead's first alert, and its trigger as the escalation recorded it.
  const store = createRoutingStore({ client: dynamoClient(stack.endpoints.dynamodb), tableName: stack.tableName });
  let firstAlerts = new Map<string, number>();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    firstAlerts = firstAlertsByName(await outbox(stack.url), new Set(names));
    if (firstAlerts.size >= total) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const alerts = await store.alertsSent(new Date(Date.now() - 3_600_000), new Date(Date.now() + 60_000));
  const triggerOf = new Map(
    alerts.filter((alert) => alert.tier === 1).map((alert) => [alert.leadId, alert.triggeredAt]),
  );
  const nameOf = await leadNames(stack, names);
  const delays: number[] = [];
  for (const [leadId, trigger] of triggerOf) {
    const name = nameOf.get(leadId);
    const first = name ? firstAlerts.get(name) : undefined;
    if (first !== undefined) delays.push((first - Date.parse(trigger)) / 1000);
  }
  const latency = percentiles(Float64Array.from(delays.map((delay) => delay * 1000)));

  // Transitions: the last 20 leads' executions, run to their end (nobody answers: reminder,
  // time-out, the next rep, the manager); and one lead accepted from its first alert.
  const firsts = alerts.filter((alert) => alert.tier === 1).sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  const acceptedAlert = await acceptOne(stack, names);
  const unanswered = await transitionsOf(
    stack,
    firsts
      .slice(-21)
      .map((alert) => alert.escalationId)
      .filter((id) => id !== acceptedAlert),
  );
  const accepted = acceptedAlert ? await transitionsOf(stack, [acceptedAlert]) : [];
  return { statuses, sentSeconds, alerted: firstAlerts.size, latency, transitions: unanswered, accepted };
}

/** Accepts the last lead's first alert from its link; returns its escalation's id. */
async function acceptOne(stack: LocalStack, names: string[]): Promise<string | undefined> {
  const name = names.at(-1) as string;
  const item = (await outbox(stack.url)).find((candidate) => candidate.text?.includes(name));
  const link = /https?:\/\/\S+\/alerts\/[\w-]+/.exec(item?.text ?? "")?.[0];
  if (!link) return undefined;
  const answer = await fetch(link, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ action: "accept" }),
  });
  if (!answer.ok) return undefined;
  const { leadId } = (await answer.json()) as { leadId: string };
  const store = createRoutingStore({ client: dynamoClient(stack.endpoints.dynamodb), tableName: stack.tableName });
  return (await store.getEscalation(leadId))?.escalationId;
}

function send(url: string, webhook: Webhook, name: string, index: number): Promise<number> {
  const id = `msg_${name}`;
  const now = new Date();
  const body = JSON.stringify({
    email: `${name}@acme-rockets.com`,
    first_name: name,
    phone: `+1415${String(2_000_000 + index).padStart(7, "0")}`,
  });
  return fetch(`${url}/webhooks/hot-form`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": webhook.sign(id, now, body),
    },
    body,
  }).then((response) => response.status);
}

async function outbox(url: string): Promise<OutboxItem[]> {
  return ((await (await fetch(`${url}/_local/messages`)).json()) as { items: OutboxItem[] }).items;
}

/** The first alert (email or SMS) of each lead, by the lead's name in its text. */
function firstAlertsByName(items: OutboxItem[], names: Set<string>): Map<string, number> {
  const first = new Map<string, number>();
  for (const item of items) {
    if (item.purpose !== "speed-to-lead-alert") continue;
    const name = /b[0-9a-z]+x\d+/.exec(item.text ?? "")?.[0];
    if (!name || !names.has(name)) continue;
    const at = Date.parse(item.at);
    if (!first.has(name) || at < (first.get(name) as number)) first.set(name, at);
  }
  return first;
}

async function leadNames(stack: LocalStack, names: string[]): Promise<Map<string, string>> {
  const byId = new Map<string, string>();
  const headers = { "x-api-key": developmentSecrets.ADMIN_API_KEY };
  for (let start = 0; start < names.length; start += 50) {
    await Promise.all(
      names.slice(start, start + 50).map(async (name) => {
        const answer = await fetch(`${stack.url}/leads?email=${name}@acme-rockets.com`, { headers });
        const [lead] = ((await answer.json()) as { items: { id: string }[] }).items;
        if (lead) byId.set(lead.id, name);
      }),
    );
  }
  return byId;
}

/** Waits for each execution to end and reads its state transitions from the local endpoint. */
async function transitionsOf(stack: LocalStack, escalationIds: string[]): Promise<number[]> {
  const counts: number[] = [];
  for (const name of escalationIds) {
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:leadflow-speed-to-lead:${name}`;
    for (;;) {
      const answer = await fetch(stack.endpoints.stepFunctions, {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AWSStepFunctions.DescribeExecution" },
        body: JSON.stringify({ executionArn }),
      });
      const description = (await answer.json()) as { status?: string; stateTransitions?: number };
      if (description.status && description.status !== "RUNNING") {
        counts.push(description.stateTransitions ?? 0);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return counts;
}

const benchStarted = performance.now();
const result = await main();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
const accepted = result.statuses.filter((status) => status === 202).length;
const unanswered = result.transitions.length
  ? result.transitions.reduce((sum, count) => sum + count, 0) / result.transitions.length
  : 0;
const cost = (perLead: number) => ((perLead * 10_000) / 1000) * pricePerThousandTransitions;
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;
writeBlock(
  "alerts",
  "Speed-to-lead alerts (`npm run bench -- alerts`)",
  [
    `Run: ${new Date().toISOString().slice(0, 10)} · \`npm run bench -- alerts\` · ${machine}`,
    "",
    `${total} signed leads from a form source that alerts on arrival, ${rate} a second for ${seconds} s (sent in ${result.sentSeconds.toFixed(1)} s; ${accepted} acknowledged), against \`npm start --fast\` in the benchmark process; ${((performance.now() - benchStarted) / 1000).toFixed(0)} s in all.`,
    "",
    "| figure | value |",
    "| --- | --- |",
    `| leads alerted (first email or SMS in the outbox) | ${result.alerted} of ${total} |`,
    `| trigger → first alert, p50 | ${ms(result.latency.p50)} |`,
    `| trigger → first alert, p99 | ${ms(result.latency.p99)} |`,
    `| trigger → first alert, max | ${ms(result.latency.max)} |`,
    `| state transitions, a lead nobody accepts (alert, reminder, time-out, next rep, manager), mean of ${result.transitions.length} | ${unanswered.toFixed(0)} |`,
    `| Step Functions cost per 10,000 leads at that (worst) path, $${pricePerThousandTransitions} per 1,000 transitions | $${cost(unanswered).toFixed(2)} |`,
    `| state transitions, a lead accepted from its first alert | ${result.accepted[0] ?? "—"} |`,
    `| Step Functions cost per 10,000 leads all accepted at once | ${result.accepted[0] ? `$${cost(result.accepted[0]).toFixed(2)}` : "—"} |`,
    "",
    "| target | result | |",
    "| --- | --- | --- |",
    `| p99 trigger → first alert < 2 s | ${ms(result.latency.p99)} | ${verdict(result.latency.p99 < 2000)} |`,
    `| every lead alerted | ${result.alerted} / ${total} | ${verdict(result.alerted === total)} |`,
  ].join("\n"),
);
process.exit(0);
