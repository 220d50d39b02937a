import { createHash, randomBytes } from "node:crypto";
import type { HistoryEntry } from "../leads/history.ts";
import type { Lead } from "../leads/lead.ts";
import type { OutgoingMessage } from "../messages.ts";
import type { Contact } from "./config.ts";

/** An alert's life: held (after hours), waiting for an answer, then one of the endings. */
export const alertStatuses = ["held", "waiting", "accepted", "declined", "timed-out", "superseded"] as const;
export type AlertStatus = (typeof alertStatuses)[number];

export type Role = "rep" | "manager";

/**
 * One person alerted for one lead. The link's token is the credential and the alert's key: it
 * is kept so a retried workflow task sends the very same link (and the same message ids).
 */
export interface Alert {
  token: string;
  /** A short digest of the token, to name the alert in history and logs without the credential. */
  alertId: string;
  escalationId: string;
  leadId: string;
  team: string;
  tier: number;
  role: Role;
  recipient: Contact;
  status: AlertStatus;
  /** When the domain event that started the escalation happened: the report counts from it. */
  triggeredAt: string;
  sentAt: string;
  /** When the accept time starts (later than `sentAt` when held until a shift begins). */
  startsAt: string;
  /** When the accept time ends. */
  deadline: string;
  answeredAt?: string;
  /** The workflow task waiting for the answer, once it is waiting. */
  taskToken?: string;
}

/** The alert link's secret part: 32 random bytes, URL-safe. */
export function newAlertToken(): string {
  return randomBytes(32).toString("base64url");
}

export function alertIdOf(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}

export interface AlertSenders {
  email: string;
  sms: string | undefined;
}

/** What an alert says about the lead: who, why now, how to reach them. */
export interface LeadBrief {
  name: string;
  company: string | undefined;
  email: string | undefined;
  phone: string | undefined;
  score: number;
  temperature: string;
  stage: string;
  reasons: string[];
}

export function leadBrief(lead: Lead, score: number, temperature: string, reasons: string[]): LeadBrief {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(" ") || lead.email || lead.phone || lead.id;
  return {
    name,
    company: lead.company,
    email: lead.email,
    phone: lead.phone,
    score,
    temperature,
    stage: lead.qualification?.stage ?? "new",
    reasons,
  };
}

/** The email and SMS that alert `recipient`, or remind them (`reminder`). */
export function alertMessages(options: {
  alert: Pick<Alert, "alertId" | "leadId" | "recipient" | "role">;
  brief: LeadBrief;
  link: string;
  acceptWithinSeconds: number;
  from: AlertSenders;
  kind: "alert" | "reminder";
  channels: readonly ("email" | "sms")[];
}): OutgoingMessage[] {
  const { alert, brief, link, from, kind } = options;
  const who = brief.company ? `${brief.name} (${brief.company})` : brief.name;
  const within = durationText(options.acceptWithinSeconds);
  const prefix = kind === "reminder" ? "Reminder: " : alert.role === "manager" ? "Escalated: " : "";
  const subject = `${prefix}${brief.temperature === "hot" ? "Hot" : "New"} lead ${who}, score ${brief.score}: accept within ${within}`;
  const why = brief.reasons.length > 0 ? brief.reasons.map((reason) => `- ${reason}`).join("\n") : "- (no rule)";
  const contact = [brief.email && `Email: ${brief.email}`, brief.phone && `Phone: ${brief.phone}`].filter(Boolean);
  const text = [
    `${who} is ${brief.temperature} (score ${brief.score}, ${brief.stage}).`,
    "",
    "Why:",
    why,
    "",
    ...contact,
    "",
    `Accept or decline within ${within}: ${link}`,
    "Leads called within 5 minutes qualify far more often than after 30.",
  ].join("\n");
  const messages: OutgoingMessage[] = [];
  const base = { leadId: alert.leadId, purpose: `speed-to-lead-${kind}` };
  if (options.channels.includes("email")) {
    messages.push({
      ...base,
      id: `${alert.alertId}-${kind}-email`,
      channel: "email",
      to: alert.recipient.email,
      from: from.email,
      subject,
      text,
      html: alertHtml({ who, brief, link, within, prefix }),
    });
  }
  if (options.channels.includes("sms") && alert.recipient.phone && from.sms) {
    messages.push({
      ...base,
      id: `${alert.alertId}-${kind}-sms`,
      channel: "sms",
      to: alert.recipient.phone,
      from: from.sms,
      text: `${prefix}${brief.temperature} lead ${who}, score ${brief.score}. Accept within ${within}: ${link}`,
    });
  }
  return messages;
}

function alertHtml(parts: { who: string; brief: LeadBrief; link: string; within: string; prefix: string }): string {
  const { who, brief, link, within, prefix } = parts;
  const reasons = brief.reasons.map((reason) => `<li>${escapeHtml(reason)}</li>`).join("");
  return [
    `<p>${escapeHtml(prefix)}<strong>${escapeHtml(who)}</strong> is ${escapeHtml(brief.temperature)} (score ${brief.score}).</p>`,
    reasons ? `<ul>${reasons}</ul>` : "",
    `<p><a href="${escapeHtml(link)}">Accept or decline</a> within ${escapeHtml(within)}.</p>`,
  ].join("");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function durationText(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round((seconds / 3600) * 10) / 10} h`;
}

/** A history entry of the lead's speed-to-lead, `{ rep, team, tier }` in its details. */
export function alertHistoryEntry(
  alert: Pick<Alert, "alertId" | "leadId" | "recipient" | "team" | "tier" | "role">,
  type: Extract<HistoryEntry["type"], `alert.${string}`>,
  at: string,
  summary: string,
): HistoryEntry {
  return {
    leadId: alert.leadId,
    id: `${type}:${alert.alertId}`,
    at,
    type,
    summary,
    details: { rep: alert.recipient.id, team: alert.team, tier: alert.tier, role: alert.role, alertId: alert.alertId },
  };
}
