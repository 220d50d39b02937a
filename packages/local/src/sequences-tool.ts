/**
 * `npm run sequences -- preview <id> --lead <lead id>` and `npm run sequences -- simulate <id>
 * [--days 30]`: marketer tools for a nurture sequence, against the running `npm start` (or
 * LEADFLOW_URL; a deployed table when TABLE_NAME is set), with the config the stack uses now.
 * `preview` renders each sending step for one lead; `simulate` plays the sequence out in memory
 * for the leads it would reach (see docs/nurture.md#marketer-tools). Neither sends nor writes.
 * Leads appear by id only: no email or phone is printed.
 */
import { parseArgs } from "node:util";
import {
  type CompiledSequence,
  ConfigError,
  type Lead,
  reachability,
  renderStep,
  type SimulatedLead,
  type SimulatedRow,
  type Simulation,
  simulateSequence,
  takesColdLeads,
  templateFormat,
} from "@leadflow/core";
import { schedules } from "@leadflow/manifest";
import { Cron } from "croner";
import { localStackUrl, useStackEnvironment } from "./tool-environment.ts";

const usage = [
  "Usage:",
  "  npm run sequences -- preview <sequence id> --lead <lead id>",
  "  npm run sequences -- simulate <sequence id> [--days 30]",
].join("\n");

class ToolError extends Error {}

const day = 86_400_000;
const maxDays = 365;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { lead: { type: "string" }, days: { type: "string", default: "30" } },
});
const [command, sequenceId] = positionals;

try {
  if ((command !== "preview" && command !== "simulate") || !sequenceId || positionals.length > 2)
    throw new ToolError(usage);
  if (command === "preview" && !values.lead) throw new ToolError(`preview needs --lead <lead id>\n\n${usage}`);
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > maxDays)
    throw new ToolError(`--days takes a whole number of days, 1 to ${maxDays}`);
  await useStackEnvironment();
  const lambda = await import("@leadflow/lambda");
  const sequence = currentSequence(lambda, sequenceId);
  if (command === "preview") await preview(lambda, sequence, values.lead as string);
  else await simulate(lambda, sequence, days);
} catch (error) {
  if (error instanceof ToolError) console.error(error.message);
  else if (error instanceof ConfigError) console.error(`The config has mistakes:\n${error.message}`);
  else if (error instanceof Error) console.error(error.message);
  else throw error;
  process.exit(1);
}

type Lambda = typeof import("@leadflow/lambda");

/** The sequence as the config the stack uses now has it: the version new enrolments start. */
function currentSequence(lambda: Lambda, id: string): CompiledSequence {
  const { sequences } = lambda.config();
  const sequence = sequences.byId(id);
  if (sequence) return sequence;
  const known = sequences.all.map((each) => each.id).join(", ") || "none";
  throw new ToolError(
    `No sequence "${id}" in the config (${lambda.setting("LEADFLOW_CONFIG_DIR")}); sequences: ${known}`,
  );
}

/** The stack's clock (it may have been moved with POST /_local/clock); the system's on AWS. */
async function stackNow(): Promise<Date> {
  if (process.env.TABLE_NAME && !process.env.LEADFLOW_URL) return new Date();
  const response = await fetch(`${localStackUrl()}/_local/clock`);
  if (!response.ok) throw new Error(`${localStackUrl()}/_local/clock answered ${response.status}`);
  return new Date(((await response.json()) as { now: string }).now);
}

function versionOf(sequence: CompiledSequence): string {
  const label = sequence.label === undefined ? "" : `version ${sequence.label}, `;
  return `${label}digest ${sequence.digest.slice(0, 12)}`;
}

async function preview(lambda: Lambda, sequence: CompiledSequence, leadId: string): Promise<void> {
  const lead = await lambda.leadStore().getLead(leadId);
  if (!lead) throw new ToolError(`No lead "${leadId}" in ${tableLabel()}`);
  const deps = lambda.nurtureDependencies();
  const owner = lead.owner ? deps.ownerOf(lead.owner) : undefined;
  const reach = await reachability(lambda.nurtureStore(), lead);
  // A real email gets a token of its own when it is sent; a preview creates none.
  const unsubscribeUrl = `${process.env.PUBLIC_URL || "<PUBLIC_URL>"}/unsubscribe/<token>`;
  console.log(`Sequence ${sequence.id} (${versionOf(sequence)}) for lead ${lead.id}`);
  console.log(
    `The lead can get: email ${reach.email}, SMS ${reach.sms}. unsubscribe_url is shown as ${unsubscribeUrl}.`,
  );
  for (const step of sequence.steps) {
    if (step.kind !== "email" && step.kind !== "sms") continue;
    const rendered = renderStep(sequence, step.id, { lead, ...(owner ? { owner } : {}), unsubscribeUrl });
    if (step.kind === "sms") {
      console.log(`\n── ${step.id} · SMS from ${sequence.from.sms} ──\n${rendered.text}`);
      continue;
    }
    const html = templateFormat(step.body) === "html";
    const subject = "subject" in rendered ? rendered.subject : "";
    console.log(`\n── ${step.id} · email from ${sequence.from.email} · template ${step.template} ──`);
    console.log(`Subject: ${subject}`);
    console.log(html ? "HTML: yes (the text part below is made from it)" : "HTML: no (plain text)");
    console.log(`\n${rendered.text}`);
  }
}

function tableLabel(): string {
  return process.env.TABLE_NAME ? `table ${process.env.TABLE_NAME}` : "the table";
}

/** The first run of a schedule at or after `at`, from its EventBridge cron in the manifest. */
async function tickOf(name: "nurture-enrol" | "nurture-step"): Promise<(at: Date) => Date> {
  // Imported once the stack's environment is in place, as @leadflow/lambda (which it uses) is.
  const { localCronPattern } = await import("./schedules.ts");
  const cron = new Cron(localCronPattern(schedules[name].schedule), { timezone: "UTC", paused: true });
  return (at) => cron.nextRun(new Date(at.getTime() - 1)) ?? at;
}

/**
 * The leads the sequence would reach: those enrolled (the due index, up to the end) and, when it
 * takes cold leads, those the enrolment schedule has not looked at yet and that are cold long
 * enough by the end (the cold index, from the sequence's cursor on, as `enrolColdLeads` reads it).
 */
async function matchingLeads(lambda: Lambda, sequence: CompiledSequence, end: Date): Promise<SimulatedLead[]> {
  const store = lambda.nurtureStore();
  const ids = new Set<string>();
  for await (const page of store.dueSteps(end.toISOString()))
    for (const due of page) if (due.sequenceId === sequence.id) ids.add(due.leadId);
  if (takesColdLeads(sequence)) {
    const upTo = new Date(end.getTime() - sequence.entry.coldForDays * day).toISOString();
    const after = await store.enrolCursor(sequence.id);
    for await (const page of lambda.leadStore().coldLeads(after, upTo)) for (const id of page) ids.add(id);
  }
  const leads: SimulatedLead[] = [];
  const queue = [...ids];
  // A few reads at once: enough for a tool, gentle on a deployed table.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const found = await simulatedLead(lambda, sequence, id);
        if (found) leads.push(found);
      }
    }),
  );
  return leads.sort((a, b) => (a.lead.id < b.lead.id ? -1 : 1));
}

async function simulatedLead(lambda: Lambda, sequence: CompiledSequence, id: string) {
  const store = lambda.nurtureStore();
  const [lead, enrolment, log] = await Promise.all([
    lambda.leadStore().getLead(id),
    store.getEnrolment(id, sequence.id),
    store.contactLog(id),
  ]);
  if (!lead) return undefined;
  const runs =
    enrolment?.status === "active" && enrolment.digest !== sequence.digest
      ? await store.getSequence(sequence.id, enrolment.digest)
      : undefined;
  const simulated: SimulatedLead = {
    lead: lead as Lead,
    reach: await reachability(store, lead),
    contactTimes: log.contacts.map((contact) => contact.at),
    ...(enrolment ? { enrolment } : {}),
    ...(runs ? { runs } : {}),
  };
  return simulated;
}

async function simulate(lambda: Lambda, sequence: CompiledSequence, days: number): Promise<void> {
  const now = await stackNow();
  const end = new Date(now.getTime() + days * day);
  const leads = await matchingLeads(lambda, sequence, end);
  const result = simulateSequence({
    sequence,
    leads,
    now,
    days,
    accountZone: lambda.setting("NURTURE_ACCOUNT_TIMEZONE"),
    enrolTick: await tickOf("nurture-enrol"),
    stepTick: await tickOf("nurture-step"),
  });
  console.log(`Sequence ${sequence.id} (${versionOf(sequence)}), simulated from ${result.from} to ${result.to}`);
  console.log("Nothing is sent or written; engagement is assumed none (no open, click or reply).\n");
  console.log(rowsTable(result.rows));
  console.log(`\n${totalsText(result)}`);
}

function describeRow(row: SimulatedRow): string {
  switch (row.action) {
    case "enrol":
      return "enrolled";
    case "send":
      return "sent";
    case "defer":
      return `deferred (${row.reason}) until ${row.until?.slice(0, 16).replace("T", " ")} UTC`;
    case "skip":
      return `skipped (${row.reason})`;
    case "exit":
      return `exits (${row.reason})`;
    case "complete":
      return "completes the sequence";
  }
}

function rowsTable(rows: SimulatedRow[]): string {
  const header = ["when (UTC)", "lead", "lead's local time", "zone", "step", "channel", "what"];
  if (rows.length === 0) return `${header.join("  ")}\n(nothing happens in these days)`;
  const cells = rows.map((row) => [
    row.at.slice(0, 16).replace("T", " "),
    row.leadId,
    row.localTime,
    row.zone,
    row.stepId ?? "",
    row.channel ?? "",
    describeRow(row),
  ]);
  const widths = header.map((title, index) => Math.max(title.length, ...cells.map((line) => line[index]?.length ?? 0)));
  const line = (parts: string[]) =>
    parts
      .map((part, index) => part.padEnd(widths[index] as number))
      .join("  ")
      .trimEnd();
  return [line(header), ...cells.map(line)].join("\n");
}

function totalsText({ totals }: Simulation): string {
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([name, count]) => `${name} ${count}`)
      .join(", ") || "none";
  return [
    `Leads: ${totals.enrolled} enrolled, ${totals.enrolling} to be enrolled, ${totals.notTaken} cold but kept out by the entry or re-entry rule, ${totals.later} cold long enough only later; ${totals.reached} get a message.`,
    `Sent: ${totals.sent.email + totals.sent.sms} (email ${totals.sent.email}, SMS ${totals.sent.sms}); by step: ${list(totals.sentByStep)}.`,
    `Deferred: ${list(totals.deferred)}. Skipped: ${list(totals.skipped)}. Exited: ${list(totals.exited)}. Completed: ${totals.completed}.`,
  ].join("\n");
}
