import { z } from "zod";
import { mapLimited } from "../concurrency.ts";
import type { Lead } from "../leads/lead.ts";
import { type OutgoingMessage, SendLaterError } from "../messages.ts";
import type { StoredEvent } from "../scoring/events.ts";
import {
  type Enrolment,
  mayEnrol,
  planStep,
  type Reachability,
  type SendingStep,
  type StepFacts,
} from "./enrolment.ts";
import type { CompiledSequence, SequenceExitReason, SequenceLibrary } from "./sequence.ts";
import { renderStep, type TemplateContext } from "./templates.ts";
import { type Channel, channelWindows, nextSendTime, windowHolds } from "./timing.ts";
import { leadTimeZones } from "./zones.ts";

/** An address taken off every marketing send, and why. */
export interface Suppression {
  channel: Channel;
  /** A lower-cased email, or an E.164 phone. */
  address: string;
  reason: "unsubscribe" | "complaint" | "bounce" | "stop";
  at: string;
  leadId?: string;
}

/** One step of an enrolment that is due: what the step tick puts on the nurture queue. */
export const DueStepSchema = z.strictObject({
  leadId: z.string().min(1).max(128),
  sequenceId: z.string().min(1).max(64),
  enrolmentId: z.string().min(1).max(64),
  stepIndex: z.int().min(0),
  dueAt: z.iso.datetime(),
});
export type DueStep = z.infer<typeof DueStepSchema>;

export interface ContactLog {
  /** Messages sent to the lead, newest last, the last 8 days. */
  contacts: { messageId: string; at: string }[];
  version: number;
}

/** Nurture's part of the single table (packages/store/src/nurture.ts). */
export interface NurtureStore {
  getEnrolment(leadId: string, sequenceId: string): Promise<Enrolment | undefined>;
  /** Creates (expected undefined) or replaces the enrolment at `expectedVersion`; false if it moved. */
  saveEnrolment(enrolment: Enrolment, expectedVersion: number | undefined): Promise<boolean>;
  enrolmentsOf(leadId: string): Promise<Enrolment[]>;
  /** Keeps a compiled version under (id, digest), for the leads that start it. */
  keepSequence(sequence: CompiledSequence): Promise<void>;
  getSequence(sequenceId: string, digest: string): Promise<CompiledSequence | undefined>;
  /** Until when the enrol tick has looked at leads gone cold for the sequence. */
  enrolCursor(sequenceId: string): Promise<string | undefined>;
  setEnrolCursor(sequenceId: string, coldUntil: string): Promise<void>;
  /** Active enrolments whose next step is due by `upTo`, a page at a time. */
  dueSteps(upTo: string): AsyncGenerator<DueStep[]>;
  suppression(channel: Channel, address: string): Promise<Suppression | undefined>;
  suppress(suppression: Suppression): Promise<void>;
  /** Lifts a suppression of the given reasons (a START lifts only a STOP). */
  liftSuppression(channel: Channel, address: string, reasons: readonly Suppression["reason"][]): Promise<void>;
  contactLog(leadId: string): Promise<ContactLog>;
  /** Adds a contact at the version read; false if the log moved (another send raced). */
  recordContact(leadId: string, contact: { messageId: string; at: string }, log: ContactLog): Promise<boolean>;
  /** A new unsubscribe token for this address of the lead. */
  createUnsubscribeToken(leadId: string, email: string, createdAt: string): Promise<string>;
  findUnsubscribeToken(token: string): Promise<{ leadId: string; email: string } | undefined>;
}

export interface NurtureDependencies {
  leads: {
    getLead(id: string): Promise<Lead | undefined>;
    listEvents(leadId: string): Promise<StoredEvent[]>;
    /** Leads cold since a time in (after, upTo], a page of ids at a time (the cold index). */
    coldLeads(after: string | undefined, upTo: string): AsyncGenerator<string[]>;
  };
  store: NurtureStore;
  /** The sequences of the current config. */
  sequences: SequenceLibrary;
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /** A link that unsubscribes this address of the lead: `{PUBLIC_URL}/unsubscribe/{token}`. */
  unsubscribeLink(leadId: string, email: string): Promise<{ url: string; token: string }>;
  /** The rep or manager a lead's `owner` names, for templates. */
  ownerOf(ownerId: string): TemplateContext["owner"];
  /** Where leads with no known zone are taken to be (NURTURE_ACCOUNT_TIMEZONE). */
  accountZone: string;
  now(): Date;
}

const day = 86_400_000;

/**
 * The enrolment tick: for each sequence, the leads that went cold long enough ago for its entry
 * since the last tick looked (the cold index, read from the sequence's cursor on), each enrolled
 * when it matches the entry and re-entry rules. Reads grow with the leads crossing the line, not
 * with the table. A new sequence looks once at every cold lead.
 */
export async function enrolColdLeads(deps: NurtureDependencies): Promise<EnrolmentResult> {
  const now = deps.now();
  const result: EnrolmentResult = { enrolled: 0, considered: 0, failed: [] };
  for (const sequence of deps.sequences.all) {
    // The index is read a little behind now: a lead written just before may not be in it yet.
    const coldUntil = new Date(now.getTime() - sequence.entry.coldForDays * day - indexLagMs).toISOString();
    const after = await deps.store.enrolCursor(sequence.id);
    let kept = false;
    for await (const leadIds of deps.leads.coldLeads(after, coldUntil)) {
      if (!kept) {
        await deps.store.keepSequence(sequence);
        kept = true;
      }
      result.considered += leadIds.length;
      await mapLimited(leadIds, enrolConcurrency, async (leadId) => {
        try {
          if (await enrol(deps, sequence, leadId, now)) result.enrolled++;
        } catch (error) {
          // One lead that cannot be read or written holds back neither the others nor the cursor.
          result.failed.push({ leadId, sequenceId: sequence.id, error: error instanceof Error ? error.name : "Error" });
        }
      });
    }
    await deps.store.setEnrolCursor(sequence.id, coldUntil);
  }
  return result;
}

export interface EnrolmentResult {
  enrolled: number;
  considered: number;
  /** Leads whose enrolment threw (an error name, never a message that could quote an address). */
  failed: { leadId: string; sequenceId: string; error: string }[];
}

/** How far behind now the cold index is read (GSIs are eventually consistent). */
const indexLagMs = 5 * 60 * 1000;
/** Leads enrolled at once. */
const enrolConcurrency = 8;

async function enrol(deps: NurtureDependencies, sequence: CompiledSequence, leadId: string, now: Date) {
  const [lead, previous] = await Promise.all([
    deps.leads.getLead(leadId),
    deps.store.getEnrolment(leadId, sequence.id),
  ]);
  if (!lead || !mayEnrol(sequence, lead, previous, now)) return false;
  return deps.store.saveEnrolment(startEnrolment(sequence, leadId, now, previous), previous?.version);
}

/** A new run of the sequence for the lead, due now (`previous`: the run it replaces). */
function startEnrolment(sequence: CompiledSequence, leadId: string, now: Date, previous?: Enrolment): Enrolment {
  const at = now.toISOString();
  return {
    leadId,
    sequenceId: sequence.id,
    enrolmentId: crypto.randomUUID(),
    digest: sequence.digest,
    ...(sequence.label ? { label: sequence.label } : {}),
    status: "active",
    stepIndex: 0,
    dueAt: at,
    enrolledAt: at,
    sent: [],
    version: (previous?.version ?? 0) + 1,
  };
}

/**
 * When a run that ended may start again (`reentry: { after }`): the ended enrolment stays in the
 * due index until then, so a lead that stays cold is looked at again. Never after an unsubscribe
 * or a bounce.
 */
function reentryDue(sequence: CompiledSequence, now: Date, reason?: SequenceExitReason): { dueAt?: string } {
  if (sequence.reentry === "never" || reason === "unsubscribed" || reason === "bounced") return {};
  return { dueAt: new Date(now.getTime() + sequence.reentry.afterSeconds * 1000).toISOString() };
}

/**
 * The re-entry of an ended run, when it comes due: the lead starts the sequence's newest version
 * again if it still matches the entry; either way the ended run leaves the due index.
 */
async function reenter(deps: NurtureDependencies, ended: Enrolment, now: Date): Promise<StepOutcome> {
  const sequence = deps.sequences.byId(ended.sequenceId);
  const lead = await deps.leads.getLead(ended.leadId);
  const { dueAt: _dueAt, ...settled } = ended;
  if (!sequence || !lead || !mayEnrol(sequence, lead, settled, now)) {
    const saved = await deps.store.saveEnrolment({ ...settled, version: ended.version + 1 }, ended.version);
    return saved ? { outcome: "not-reentered" } : { outcome: "raced" };
  }
  await deps.store.keepSequence(sequence);
  const saved = await deps.store.saveEnrolment(startEnrolment(sequence, ended.leadId, now, ended), ended.version);
  return saved ? { outcome: "reentered" } : { outcome: "raced" };
}

export type StepOutcome =
  | { outcome: "stale" }
  | { outcome: "raced" }
  | { outcome: "reentered" | "not-reentered" }
  | { outcome: "waiting" | "completed" | "exited" | "failed"; sent: number; skipped: number; reason?: string };

/** At most this many messages go out for one due step (consecutive sends; caps usually stop it first). */
export const maxSendsAtOnce = 5;
/** Plans of one due step before it gives up (each lost race for the contact log costs one). */
const maxRounds = 50;
/** How long a run holds its step: longer than the step worker's timeout. */
export const stepLeaseSeconds = 120;
/** Runs of one step that may die (a template that throws, an outage) before the enrolment fails. */
export const maxStepAttempts = 10;

/**
 * Runs a due step of an enrolment, once: a delivery whose step already ran (a copy of the
 * message, a tick that queued it twice) finds the enrolment moved on and does nothing. Messages
 * get ids from the enrolment and step, so a crash between sending and saving sends nothing twice
 * when the step runs again.
 */
export async function runDueStep(deps: NurtureDependencies, due: DueStep): Promise<StepOutcome> {
  const found = await deps.store.getEnrolment(due.leadId, due.sequenceId);
  const now = deps.now();
  if (Date.parse(due.dueAt) > now.getTime()) return { outcome: "stale" };
  if (found && found.status !== "active" && found.enrolmentId === due.enrolmentId && found.dueAt === due.dueAt) {
    return reenter(deps, found, now);
  }
  if (!isCurrent(found, due)) return { outcome: "stale" };
  const attempts = (found.attempts ?? 0) + 1;
  if (attempts > maxStepAttempts)
    return finish(deps, found, { status: "failed" }, 0, 0, `${maxStepAttempts} runs died`);
  // The run claims the step: another delivery of it (a copy, a second tick) finds it moved on,
  // and if this run dies the step is due again when the lease ends.
  const lease = new Date(now.getTime() + stepLeaseSeconds * 1000).toISOString();
  const enrolment: Enrolment = { ...found, dueAt: lease, attempts, version: found.version + 1 };
  if (!(await deps.store.saveEnrolment(enrolment, found.version))) return { outcome: "raced" };
  const [sequence, lead] = await Promise.all([sequenceOf(deps, enrolment), deps.leads.getLead(due.leadId)]);
  if (!sequence || !lead) return finish(deps, enrolment, { status: "completed" }, 0, 0, "sequence or lead gone");
  const facts = await gatherFacts(deps, lead, now);
  let current = enrolment;
  let sent = 0;
  let skipped = 0;
  for (let round = 0; ; round++) {
    if (round >= maxRounds) throw new Error(`Step ${due.stepIndex} of ${due.sequenceId} did not settle; retry`);
    const plan = planStep(sequence, current, { ...facts, contactTimes: contactTimes(facts.log, current) });
    switch (plan.kind) {
      case "exit": {
        const change = {
          status: "exited" as const,
          exitReason: plan.reason,
          ...reentryDue(sequence, now, plan.reason),
        };
        return finish(deps, current, change, sent, skipped, plan.reason);
      }
      case "complete":
        return finish(deps, current, { status: "completed", ...reentryDue(sequence, now) }, sent, skipped);
      case "wait":
        return finish(
          deps,
          current,
          { stepIndex: plan.stepIndex, dueAt: plan.dueAt.toISOString(), deferredBy: plan.because },
          sent,
          skipped,
          plan.because,
        );
      case "skip":
        skipped++;
        current = { ...current, stepIndex: plan.stepIndex + 1 };
        continue;
      case "send": {
        if (sent >= maxSendsAtOnce) {
          return finish(deps, current, { stepIndex: plan.stepIndex, dueAt: now.toISOString() }, sent, skipped);
        }
        const messageId = `nurture-${current.enrolmentId}-${plan.stepIndex}`;
        if (!(await countContact(deps, lead.id, messageId, now, facts))) continue;
        const windows = channelWindows(plan.step.kind, sequence.window);
        const marketing = {
          zones: [...facts.zones],
          windows: windows.map((window) => ({ ...window, days: [...window.days] })),
        };
        await deps.send([{ ...(await message(deps, sequence, plan.step, lead, messageId)), marketing }]);
        sent++;
        current = {
          ...current,
          stepIndex: plan.stepIndex + 1,
          sent: [...current.sent, { stepId: plan.step.id, messageId, channel: plan.step.kind, at: now.toISOString() }],
        };
      }
    }
  }
}

function isCurrent(enrolment: Enrolment | undefined, due: DueStep): enrolment is Enrolment {
  return (
    enrolment?.status === "active" &&
    enrolment.enrolmentId === due.enrolmentId &&
    enrolment.stepIndex === due.stepIndex &&
    enrolment.dueAt === due.dueAt
  );
}

/** The version the lead started: the config's when it is the same digest, else the one stored at enrolment. */
async function sequenceOf(deps: Pick<NurtureDependencies, "store" | "sequences">, enrolment: Enrolment) {
  const current = deps.sequences.byId(enrolment.sequenceId);
  if (current?.digest === enrolment.digest) return current;
  return deps.store.getSequence(enrolment.sequenceId, enrolment.digest);
}

async function finish(
  deps: NurtureDependencies,
  enrolment: Enrolment,
  change: Partial<Enrolment>,
  sent: number,
  skipped: number,
  reason?: string,
): Promise<StepOutcome> {
  const now = deps.now().toISOString();
  const ended = change.status !== undefined && change.status !== "active";
  const { dueAt: _dueAt, deferredBy: _deferredBy, attempts: _attempts, ...rest } = enrolment;
  const next: Enrolment = {
    ...(ended ? rest : { ...rest, dueAt: enrolment.dueAt }),
    ...change,
    ...(ended ? { endedAt: now } : {}),
    version: enrolment.version + 1,
  };
  if (!(await deps.store.saveEnrolment(next, enrolment.version))) {
    return { outcome: "raced" };
  }
  const outcome = ended ? (next.status as "completed" | "exited" | "failed") : "waiting";
  return { outcome, sent, skipped, ...(reason ? { reason } : {}) };
}

/**
 * Counts the message in the lead's contact log before it goes (the caps read it), at the version
 * the plan read. A message already counted (the step running again after a crash) is not counted
 * twice. When another send moved the log, it is read again and the step planned again: two
 * sequences never both take a lead's last slot of the day.
 */
async function countContact(deps: NurtureDependencies, leadId: string, messageId: string, now: Date, facts: Facts) {
  if (facts.log.contacts.some((contact) => contact.messageId === messageId)) return true;
  const contact = { messageId, at: now.toISOString() };
  if (await deps.store.recordContact(leadId, contact, facts.log)) {
    facts.log = { contacts: [...facts.log.contacts, contact], version: facts.log.version + 1 };
    return true;
  }
  facts.log = await deps.store.contactLog(leadId);
  return false;
}

/**
 * What the caps count: every message to the lead, except those this enrolment counted for steps
 * it has not saved as sent (a run that crashed after counting): the step they belong to is the
 * one being planned again, and must not be held back by itself.
 */
function contactTimes(log: ContactLog, enrolment: Enrolment): string[] {
  const own = `nurture-${enrolment.enrolmentId}-`;
  const saved = new Set(enrolment.sent.map((sent) => sent.messageId));
  return log.contacts
    .filter((contact) => !contact.messageId.startsWith(own) || saved.has(contact.messageId))
    .map((contact) => contact.at);
}

type Facts = Omit<StepFacts, "contactTimes"> & { log: ContactLog };

async function gatherFacts(deps: NurtureDependencies, lead: Lead, now: Date): Promise<Facts> {
  const [reach, events, log] = await Promise.all([
    reachability(deps.store, lead),
    deps.leads.listEvents(lead.id),
    deps.store.contactLog(lead.id),
  ]);
  const ofType = (type: string) => events.filter(({ event }) => event.type === type).map(({ event }) => event);
  const messageIds = (type: string) =>
    new Set(
      ofType(type).flatMap((event) =>
        typeof event.properties.messageId === "string" ? [event.properties.messageId] : [],
      ),
    );
  const replies = ofType("reply").map((event) => event.at);
  return {
    lead,
    reach,
    zones: leadTimeZones(lead, deps.accountZone).zones,
    log,
    engagement: {
      opened: messageIds("email_open"),
      clicked: messageIds("email_click"),
      repliedSince: (at) => replies.some((reply) => reply >= at),
    },
    now,
  };
}

/** What the suppression list and the lead's consent allow, per channel. */
export async function reachability(store: Pick<NurtureStore, "suppression">, lead: Lead): Promise<Reachability> {
  const [email, sms] = await Promise.all([
    lead.email ? store.suppression("email", lead.email.toLowerCase()) : undefined,
    lead.phone ? store.suppression("sms", lead.phone) : undefined,
  ]);
  return {
    email: !lead.email
      ? "none"
      : email?.reason === "bounce"
        ? "bounced"
        : email
          ? "unsubscribed"
          : lead.consent.email?.granted === false
            ? "unsubscribed"
            : "ok",
    sms: !lead.phone ? "none" : sms ? "stopped" : lead.consent.sms?.granted === true ? "ok" : "no-consent",
  };
}

async function message(
  deps: NurtureDependencies,
  sequence: CompiledSequence,
  step: SendingStep,
  lead: Lead,
  id: string,
): Promise<OutgoingMessage> {
  const base = { id, purpose: `nurture-${sequence.id}`.slice(0, 64), leadId: lead.id };
  const owner = lead.owner ? deps.ownerOf(lead.owner) : undefined;
  if (step.kind === "sms") {
    const { text } = renderStep(sequence, step.id, { lead, ...(owner ? { owner } : {}), unsubscribeUrl: "" });
    return { ...base, channel: "sms", to: lead.phone as string, from: sequence.from.sms as string, text };
  }
  const email = lead.email as string;
  const link = await deps.unsubscribeLink(lead.id, email);
  const rendered = renderStep(sequence, step.id, { lead, ...(owner ? { owner } : {}), unsubscribeUrl: link.url });
  if (!("subject" in rendered)) throw new Error(`Step ${step.id} of ${sequence.id} did not render as an email`);
  return {
    ...base,
    channel: "email",
    to: email,
    from: sequence.from.email as string,
    subject: rendered.subject,
    text: rendered.text,
    ...(rendered.html ? { html: rendered.html } : {}),
    headers: unsubscribeHeaders(link, sequence.from.email as string),
  };
}

/**
 * What the outbound consumer asks of a marketing message just before it goes: `drop` when its
 * address was suppressed since it was planned (an unsubscribe, a STOP, a bounce), else it throws
 * `SendLaterError` while its windows do not hold (a queue that fell behind, a redrive at night).
 */
export async function checkBeforeSending(
  message: OutgoingMessage,
  deps: { suppression: NurtureStore["suppression"]; now: Date },
): Promise<"send" | "drop"> {
  if (!message.marketing) return "send";
  const address = message.channel === "email" ? message.to.toLowerCase() : message.to;
  if (await deps.suppression(message.channel, address)) return "drop";
  const { zones, windows } = message.marketing;
  if (windowHolds(windows, zones, deps.now)) return "send";
  const opens = nextSendTime(windows, zones, deps.now) ?? new Date(deps.now.getTime() + 86_400_000);
  throw new SendLaterError(message.id, opens, deps.now);
}

/** RFC 8058 one-click unsubscribe (RFC 2369 List-Unsubscribe with a URL and a mailto). */
export function unsubscribeHeaders(link: { url: string; token: string }, from: string): Record<string, string> {
  const sender = /<([^>]+)>/.exec(from)?.[1] ?? from;
  return {
    "List-Unsubscribe": `<${link.url}>, <mailto:${sender}?subject=unsubscribe%20${link.token}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  };
}

/**
 * Ends every active enrolment of the lead that lists `reason` among its exits, at once (an
 * unsubscribe, a bounce, a reply); the others go on.
 */
export async function exitEnrolments(
  deps: Pick<NurtureDependencies, "store" | "sequences" | "now">,
  leadId: string,
  reason: "unsubscribed" | "bounced" | "replied",
): Promise<number> {
  let exited = 0;
  for (const listed of await deps.store.enrolmentsOf(leadId)) {
    if (await exitEnrolment(deps, listed, reason)) exited++;
  }
  return exited;
}

/** Ends one enrolment if it is active and lists the exit; a write that lost a race reads it again. */
async function exitEnrolment(
  deps: Pick<NurtureDependencies, "store" | "sequences" | "now">,
  listed: Enrolment,
  reason: SequenceExitReason,
): Promise<boolean> {
  let enrolment: Enrolment | undefined = listed;
  for (let attempt = 0; enrolment?.status === "active" && attempt < maxRounds; attempt++) {
    const sequence = await sequenceOf(deps, enrolment);
    if (sequence && !sequence.exit.includes(reason)) return false;
    const { dueAt: _dueAt, deferredBy: _deferredBy, attempts: _attempts, ...rest } = enrolment;
    const now = deps.now();
    const next: Enrolment = {
      ...rest,
      status: "exited",
      exitReason: reason,
      endedAt: now.toISOString(),
      ...(sequence ? reentryDue(sequence, now, reason) : {}),
      version: enrolment.version + 1,
    };
    if (await deps.store.saveEnrolment(next, enrolment.version)) return true;
    enrolment = await deps.store.getEnrolment(enrolment.leadId, enrolment.sequenceId);
  }
  return false;
}
