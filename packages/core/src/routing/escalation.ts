import { LeadflowError } from "../errors.ts";
import type { HistoryEntry } from "../leads/history.ts";
import type { Lead } from "../leads/lead.ts";
import { type LeadUpdateDependencies, updateLead } from "../leads/updates.ts";
import type { OutgoingMessage } from "../messages.ts";
import type { ScoringModel } from "../scoring/config.ts";
import { scoreAt } from "../scoring/qualify.ts";
import {
  type Alert,
  type AlertSenders,
  type AlertStatus,
  alertHistoryEntry,
  alertIdOf,
  alertMessages,
  durationText,
  type LeadBrief,
  leadBrief,
  newAlertToken,
} from "./alerts.ts";
import type { RoutingModel, Team } from "./config.ts";
import { nextRecipient, type Recipient, type RoutingStores, teamFor } from "./select.ts";

/** What starts an escalation: a domain event about the lead. */
export interface EscalationTrigger {
  id: string;
  type: string;
  at: string;
}

/** A lead's speed-to-lead run: at most one at a time per lead (a conditional create). */
export interface Escalation {
  leadId: string;
  escalationId: string;
  status: "running" | "done";
  trigger: EscalationTrigger;
  team: string;
  /** Who was alerted, in order (rep ids, then the manager's). */
  tried: string[];
  /** The alert of the current tier, once created: a retried task re-sends the very same one. */
  current?: { tier: number; token: string };
  outcome?: "accepted" | "unanswered" | "owned";
  version: number;
}

export interface SpeedToLeadStore extends RoutingStores {
  getEscalation(leadId: string): Promise<Escalation | undefined>;
  /** Creates (expected undefined) or replaces the lead's escalation at `expectedVersion`; false if it moved. */
  saveEscalation(escalation: Escalation, expectedVersion: number | undefined): Promise<boolean>;
  /** Creates the alert unless one with its token exists. */
  createAlert(alert: Alert): Promise<void>;
  getAlert(token: string): Promise<Alert | undefined>;
  /** Moves the alert to `to` if its status is one of `from`; the alert after the move, or undefined. */
  moveAlert(
    token: string,
    from: readonly AlertStatus[],
    to: AlertStatus,
    fields?: Partial<Alert>,
  ): Promise<Alert | undefined>;
  /** Keeps the workflow task's token on the alert; returns the alert as it now is. */
  keepTaskToken(token: string, taskToken: string): Promise<Alert | undefined>;
  recordHistory(entry: HistoryEntry): Promise<void>;
}

/** Answers the workflow task waiting on an alert. */
export interface WorkflowTasks {
  succeed(taskToken: string, output: Record<string, unknown>): Promise<void>;
}

export interface SpeedToLeadDependencies extends LeadUpdateDependencies {
  store: SpeedToLeadStore;
  routing: RoutingModel;
  scoring: ScoringModel;
  send: (messages: readonly OutgoingMessage[]) => Promise<void>;
  tasks: WorkflowTasks;
  from: AlertSenders;
  /** `{PUBLIC_URL}/alerts/{token}` */
  linkFor: (token: string) => Promise<string>;
  now: () => Date;
  /**
   * Accept times, reminders and holds are multiplied by this (1 on AWS; 1/60 with
   * `npm start -- --fast`), so the stored deadlines are the ones the workflow keeps.
   */
  timeScale: number;
}

/** Events older than this start nothing: the first hour is the one that counts. */
export const maxTriggerAgeMs = 60 * 60 * 1000;

export type StartDecision =
  | { start: true; escalationId: string; leadId: string }
  | { start: false; reason: "too-old" | "unknown-lead" | "owned" | "running" };

/**
 * Decides whether a domain event starts an escalation: not when it is over an hour old, the lead
 * has an owner, or one is running for the lead already (turning marketing-qualified then hot is
 * one trigger). A retry of the event that started the running one starts it again (the workflow
 * start is idempotent by the escalation's id).
 */
export async function claimEscalation(
  deps: Pick<SpeedToLeadDependencies, "store" | "repository" | "routing" | "scoring" | "now">,
  trigger: EscalationTrigger & { leadId: string },
  newId: () => string,
): Promise<StartDecision> {
  const now = deps.now();
  if (now.getTime() - Date.parse(trigger.at) > maxTriggerAgeMs) return { start: false, reason: "too-old" };
  const lead = await deps.repository.getLead(trigger.leadId);
  if (!lead) return { start: false, reason: "unknown-lead" };
  if (lead.owner) return { start: false, reason: "owned" };
  const existing = await deps.store.getEscalation(lead.id);
  if (existing?.status === "running") {
    if (existing.trigger.id !== trigger.id) return { start: false, reason: "running" };
    return { start: true, escalationId: existing.escalationId, leadId: lead.id };
  }
  const team = teamFor(lead, deps.routing, deps.scoring, now).name;
  const escalation: Escalation = {
    leadId: lead.id,
    escalationId: newId(),
    status: "running",
    trigger: { id: trigger.id, type: trigger.type, at: trigger.at },
    team,
    tried: [],
    version: (existing?.version ?? 0) + 1,
  };
  if (!(await deps.store.saveEscalation(escalation, existing?.version))) return claimEscalation(deps, trigger, newId);
  return { start: true, escalationId: escalation.escalationId, leadId: lead.id };
}

/** What the workflow does next after an alert task. */
export type AlertStep =
  | { done: true }
  | {
      done: false;
      token: string;
      tier: number;
      /** Seconds to wait for an answer before the reminder (or until the deadline without one). */
      firstWaitSeconds: number;
      /** Seconds left after the reminder; 0 when there is no reminder. */
      secondWaitSeconds: number;
      /** Held until the first shift begins: the workflow waits until then, then `startShift`. */
      holdUntil?: string;
    };

/**
 * Alerts the next person for the lead (tier `tier`): the next rep by round-robin, then the
 * manager; nobody left ends the escalation. Idempotent per tier: a retry re-sends the same
 * alert, link and message ids.
 */
export async function alertNext(
  deps: SpeedToLeadDependencies,
  input: { leadId: string; escalationId: string; tier: number },
): Promise<AlertStep> {
  const escalation = await deps.store.getEscalation(input.leadId);
  if (!escalation || escalation.escalationId !== input.escalationId || escalation.status !== "running") {
    return { done: true };
  }
  const lead = await deps.repository.getLead(input.leadId);
  if (!lead || lead.owner) return finish(deps, escalation, "owned");
  const team = deps.routing.teams.get(escalation.team) ?? teamFor(lead, deps.routing, deps.scoring, deps.now());
  let current =
    escalation.current?.tier === input.tier ? await deps.store.getAlert(escalation.current.token) : undefined;
  if (!current) {
    const recipient = await nextRecipient(deps.store, team, escalation.tried, deps.now());
    if (recipient.kind === "nobody") return finish(deps, escalation, "unanswered");
    current = await createAlert(deps, escalation, team, recipient, input.tier);
    if (!current) return alertNext(deps, input);
  }
  await announce(deps, lead, team, current);
  return stepOf(deps, team, current);
}

/** Where the workflow stands with a pending alert: how long it still waits, held or not. */
function stepOf(deps: SpeedToLeadDependencies, team: Team, alert: Alert): AlertStep {
  const remaining = Math.max(
    0,
    Date.parse(alert.deadline) - Math.max(Date.parse(alert.startsAt), deps.now().getTime()),
  );
  return {
    done: false,
    token: alert.token,
    tier: alert.tier,
    ...waits(team, remaining / 1000, deps.timeScale),
    ...(alert.status === "held" ? { holdUntil: alert.startsAt } : {}),
  };
}

/**
 * Where a running escalation's workflow should pick up after its execution was lost (npm start
 * keeps executions in memory): waiting on its pending alert, or alerting the next tier. Undefined
 * when there is nothing left to do.
 */
export async function resumeStep(
  deps: SpeedToLeadDependencies,
  escalation: Escalation,
): Promise<AlertStep | undefined> {
  const current = escalation.current && (await deps.store.getAlert(escalation.current.token));
  if (current && (current.status === "held" || current.status === "waiting")) {
    return stepOf(deps, teamOf(deps, current), current);
  }
  if (current?.status === "accepted") return undefined;
  const tier = (escalation.current?.tier ?? 0) + 1;
  const step = await alertNext(deps, { leadId: escalation.leadId, escalationId: escalation.escalationId, tier });
  return step.done ? undefined : step;
}

async function createAlert(
  deps: SpeedToLeadDependencies,
  escalation: Escalation,
  team: Team,
  recipient: Exclude<Recipient, { kind: "nobody" }>,
  tier: number,
): Promise<Alert | undefined> {
  const now = deps.now();
  const token = newAlertToken();
  const contact = recipient.kind === "rep" ? recipient.rep : recipient.manager;
  const startsAt = "startsAt" in recipient ? recipient.startsAt : now;
  const acceptMs = team.sla.acceptSeconds * 1000 * deps.timeScale;
  const alert: Alert = {
    token,
    alertId: alertIdOf(token),
    escalationId: escalation.escalationId,
    leadId: escalation.leadId,
    team: team.name,
    tier,
    role: recipient.kind === "rep" ? "rep" : "manager",
    recipient: { id: contact.id, name: contact.name, email: contact.email, phone: contact.phone },
    status: "startsAt" in recipient ? "held" : "waiting",
    triggeredAt: escalation.trigger.at,
    sentAt: now.toISOString(),
    startsAt: startsAt.toISOString(),
    deadline: new Date(startsAt.getTime() + acceptMs).toISOString(),
  };
  // The escalation names the tier's alert first: a retry finds it and sends the same one.
  const next: Escalation = {
    ...escalation,
    tried: [...escalation.tried, contact.id],
    current: { tier, token },
    version: escalation.version + 1,
  };
  if (!(await deps.store.saveEscalation(next, escalation.version))) return undefined;
  await deps.store.createAlert(alert);
  return alert;
}

/** Sends the alert's email (and SMS, unless held) and writes its history. Safe to repeat. */
async function announce(deps: SpeedToLeadDependencies, lead: Lead, team: Team, alert: Alert): Promise<void> {
  const held = alert.status === "held";
  await deps.send(await messagesFor(deps, lead, team, alert, "alert", held ? ["email"] : ["email", "sms"]));
  const within = durationText(team.sla.acceptSeconds);
  const who = `${alert.recipient.name} (${alert.role === "manager" ? "manager" : `tier ${alert.tier}`})`;
  const entries = [
    alertHistoryEntry(
      alert,
      "alert.sent",
      alert.sentAt,
      `Alerted ${who}: accept within ${within}${held ? ` from ${alert.startsAt}` : ""}`,
    ),
  ];
  if (alert.tier > 1) {
    const to = alert.role === "manager" ? `the manager, ${alert.recipient.name}` : `${alert.recipient.name}`;
    entries.push(alertHistoryEntry(alert, "alert.escalated", alert.sentAt, `Escalated to ${to}`));
  }
  await Promise.all(entries.map((entry) => deps.store.recordHistory(entry)));
}

async function messagesFor(
  deps: SpeedToLeadDependencies,
  lead: Lead,
  team: Team,
  alert: Alert,
  kind: "alert" | "reminder",
  channels: readonly ("email" | "sms")[],
): Promise<OutgoingMessage[]> {
  return alertMessages({
    alert,
    brief: briefOf(lead, deps.scoring, deps.now()),
    link: await deps.linkFor(alert.token),
    acceptWithinSeconds: team.sla.acceptSeconds,
    from: deps.from,
    kind,
    channels,
  });
}

/** What an alert says of the lead now: who, the score and the three rules weighing most. */
export function briefOf(lead: Lead, scoring: ScoringModel, now: Date): LeadBrief {
  const qualification = lead.qualification;
  const scored = qualification ? scoreAt(qualification, scoring, now.getTime()) : undefined;
  const reasons = scored
    ? [...(qualification?.fitRules ?? []), ...scored.engagementRules]
        .filter(({ points }) => points !== 0)
        .sort((a, b) => Math.abs(b.points) - Math.abs(a.points))
        .slice(0, 3)
        .map(({ rule, points }) => `${rule} ${points > 0 ? "+" : ""}${Math.round(points)}`)
    : [];
  return leadBrief(lead, scored?.score.total ?? 0, scored?.temperature.level ?? "cold", reasons);
}

function waits(team: Team, remainingSeconds: number, timeScale: number) {
  const remind = team.sla.remindSeconds === undefined ? undefined : team.sla.remindSeconds * timeScale;
  const elapsed = team.sla.acceptSeconds * timeScale - remainingSeconds;
  if (remind === undefined || elapsed >= remind) {
    return { firstWaitSeconds: seconds(remainingSeconds), secondWaitSeconds: 0 };
  }
  return {
    firstWaitSeconds: seconds(remind - elapsed),
    secondWaitSeconds: seconds(remainingSeconds - (remind - elapsed)),
  };
}

/** Step Functions timeouts are whole seconds, at least one. */
function seconds(value: number): number {
  return Math.max(1, Math.ceil(value));
}

async function finish(
  deps: SpeedToLeadDependencies,
  escalation: Escalation,
  outcome: NonNullable<Escalation["outcome"]>,
): Promise<AlertStep> {
  const done: Escalation = { ...escalation, status: "done", outcome, version: escalation.version + 1 };
  await deps.store.saveEscalation(done, escalation.version);
  return { done: true };
}

/** A held alert's shift has begun: its SMS goes now, and so does the accept time. */
export async function startShift(
  deps: SpeedToLeadDependencies,
  input: { leadId: string; token: string },
): Promise<AlertStep> {
  const held = await deps.store.getAlert(input.token);
  if (!held) return { done: true };
  const team = teamOf(deps, held);
  const now = deps.now();
  const deadline = new Date(now.getTime() + team.sla.acceptSeconds * 1000 * deps.timeScale).toISOString();
  const alert = await deps.store.moveAlert(input.token, ["held"], "waiting", { startsAt: now.toISOString(), deadline });
  if (!alert) return { done: false, token: held.token, tier: held.tier, firstWaitSeconds: 1, secondWaitSeconds: 0 };
  const lead = await deps.repository.getLead(alert.leadId);
  if (lead) await deps.send(await messagesFor(deps, lead, team, alert, "alert", ["sms"]));
  return {
    done: false,
    token: alert.token,
    tier: alert.tier,
    ...waits(team, team.sla.acceptSeconds * deps.timeScale, deps.timeScale),
  };
}

function teamOf(deps: SpeedToLeadDependencies, alert: Alert): Team {
  const team = deps.routing.teams.get(alert.team);
  if (!team) throw new Error(`Team ${alert.team} is no longer in config/routing.yaml`);
  return team;
}

/**
 * The workflow now waits for the answer on `taskToken`. If the answer came first (a fast rep),
 * the task is answered at once.
 */
export async function awaitAnswer(
  deps: SpeedToLeadDependencies,
  input: { token: string; taskToken: string },
): Promise<void> {
  const alert = await deps.store.keepTaskToken(input.token, input.taskToken);
  if (!alert || alert.status === "held" || alert.status === "waiting") return;
  await deps.tasks.succeed(input.taskToken, { action: answerOf(alert.status) });
}

function answerOf(status: AlertStatus): "accept" | "decline" | "gone" {
  return status === "accepted" ? "accept" : status === "declined" ? "decline" : "gone";
}

/** Half-way (by default) through the accept time with no answer: the same person, once more. */
export async function remind(deps: SpeedToLeadDependencies, input: { token: string }): Promise<void> {
  const alert = await deps.store.getAlert(input.token);
  if (alert?.status !== "waiting") return;
  const lead = await deps.repository.getLead(alert.leadId);
  if (!lead) return;
  const team = teamOf(deps, alert);
  const left = Math.max(0, Date.parse(alert.deadline) - deps.now().getTime()) / 1000 / deps.timeScale;
  await deps.send(
    await messagesFor(deps, lead, { ...team, sla: { ...team.sla, acceptSeconds: left } }, alert, "reminder", [
      "email",
      "sms",
    ]),
  );
  await deps.store.recordHistory(
    alertHistoryEntry(alert, "alert.reminded", deps.now().toISOString(), `Reminded ${alert.recipient.name}`),
  );
}

/** The accept time is over with no answer: the alert times out (its link is gone) and the next tier follows. */
export async function expire(deps: SpeedToLeadDependencies, input: { token: string }): Promise<void> {
  const now = deps.now().toISOString();
  const alert = await deps.store.moveAlert(input.token, ["held", "waiting"], "timed-out", { answeredAt: now });
  if (!alert) return;
  const within = durationText(teamOf(deps, alert).sla.acceptSeconds);
  await deps.store.recordHistory(
    alertHistoryEntry(alert, "alert.timed-out", now, `${alert.recipient.name} did not accept within ${within}`),
  );
}

/** The alert link no longer works: used, superseded or expired. */
export class AlertGoneError extends LeadflowError {
  readonly code = "gone";
}

export type AlertAnswer = "accept" | "decline";

/**
 * The person alerted accepts (and owns the lead) or declines (the next tier follows at once).
 * The alert moves from waiting (or held) to its answer in one conditional write: of many
 * simultaneous answers, one wins and the others find the link gone.
 */
export async function answerAlert(
  deps: SpeedToLeadDependencies,
  token: string,
  action: AlertAnswer,
): Promise<{ alert: Alert; brief: LeadBrief }> {
  const now = deps.now();
  await viewAlert(deps, token);
  const status = action === "accept" ? "accepted" : "declined";
  const alert = await deps.store.moveAlert(token, ["waiting", "held"], status, { answeredAt: now.toISOString() });
  if (!alert) throw gone(await deps.store.getAlert(token));
  const lead =
    action === "accept" ? await takeOwnership(deps, alert, now) : await deps.repository.getLead(alert.leadId);
  const summary =
    action === "accept" ? `${alert.recipient.name} accepted the lead` : `${alert.recipient.name} declined the lead`;
  await deps.store.recordHistory(alertHistoryEntry(alert, `alert.${status}`, now.toISOString(), summary));
  if (alert.taskToken) await deps.tasks.succeed(alert.taskToken, { action });
  return {
    alert,
    brief: lead ? briefOf(lead, deps.scoring, now) : leadBrief({ id: alert.leadId } as Lead, 0, "cold", []),
  };
}

/** The alert behind a link, while it can still be answered, with what it says of the lead. */
export async function viewAlert(
  deps: SpeedToLeadDependencies,
  token: string,
): Promise<{ alert: Alert; brief: LeadBrief }> {
  const now = deps.now();
  const alert = await deps.store.getAlert(token);
  if (!alert || (alert.status !== "waiting" && alert.status !== "held")) throw gone(alert);
  if (alert.status === "waiting" && Date.parse(alert.deadline) <= now.getTime())
    throw gone({ ...alert, status: "timed-out" });
  const lead = await deps.repository.getLead(alert.leadId);
  if (!lead) throw gone(undefined);
  return { alert, brief: briefOf(lead, deps.scoring, now) };
}

function gone(alert: Alert | undefined): AlertGoneError {
  const why = !alert
    ? "This link is not valid."
    : alert.status === "accepted" || alert.status === "declined"
      ? `This lead was already ${alert.status} from this link.`
      : alert.status === "timed-out"
        ? "The time to accept this lead has run out; it has moved on."
        : "This alert was replaced by a newer one.";
  return new AlertGoneError(why, { status: alert?.status ?? null });
}

async function takeOwnership(deps: SpeedToLeadDependencies, alert: Alert, now: Date): Promise<Lead | undefined> {
  const update = await updateLead(deps, alert.leadId, (lead) =>
    lead.owner
      ? undefined
      : { ...lead, owner: alert.recipient.id, ownerSince: now.toISOString(), version: lead.version + 1 },
  );
  const escalation = await deps.store.getEscalation(alert.leadId);
  if (escalation?.escalationId === alert.escalationId && escalation.status === "running") {
    const done: Escalation = { ...escalation, status: "done", outcome: "accepted", version: escalation.version + 1 };
    await deps.store.saveEscalation(done, escalation.version);
  }
  return update?.lead;
}
