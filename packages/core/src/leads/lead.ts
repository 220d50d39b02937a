import { z } from "zod";
import type { LeadSignal, Qualification } from "../scoring/qualify.ts";
import { type ProfileField, profileFields } from "./fields.ts";
import type { HistoryEntry } from "./history.ts";
import type { NormalizedLead } from "./normalize.ts";

export const maxPlatformLeadIdLength = 512;

/** Where and when a platform delivered a lead; `(source, platformLeadId)` is unique per delivery. */
export const CaptureReceiptSchema = z.object({
  source: z.string().min(1).max(64),
  platformLeadId: z.string().min(1).max(maxPlatformLeadIdLength),
  receivedAt: z.iso.datetime(),
  test: z.boolean(),
});
export type CaptureReceipt = z.infer<typeof CaptureReceiptSchema>;

export interface Capture {
  receipt: CaptureReceipt;
  lead: NormalizedLead;
}

export interface IdentityConflict {
  kind: "email" | "phone";
  value: string;
  ownerLeadId: string;
}

/** One delivery of this lead by a platform, and what it changed. */
export interface LeadSource extends CaptureReceipt {
  attribution: Record<string, string>;
  outcome: "created" | "merged";
  changedFields: string[];
  identityConflicts?: IdentityConflict[];
}

export interface ConsentRecord {
  granted: boolean;
  at: string;
  source: string;
}

export type LeadProfile = Partial<Record<ProfileField, string>>;

export interface Lead extends LeadProfile {
  id: string;
  email?: string;
  phone?: string;
  /** Every email and phone known for this person; `email` and `phone` are the first ones seen. */
  emails: string[];
  phones: string[];
  custom: Record<string, string>;
  consent: { email?: ConsentRecord; sms?: ConsentRecord };
  sources: LeadSource[];
  createdAt: string;
  updatedAt: string;
  /** Score, temperature and stage; absent until the lead is first scored. */
  qualification?: Qualification;
  /** Written with the lead, then carried out: see `flushPending`. */
  pending?: PendingEffects;
  /** Incremented by every write; saves are conditional on it. */
  version: number;
}

/**
 * History entries and signals produced by a lead write, stored on the lead in that same write (an
 * outbox): if the process dies before carrying them out, the next writer of the lead does it.
 */
export interface PendingEffects {
  history: HistoryEntry[];
  signals: LeadSignal[];
}

export function findSource(lead: Lead, receipt: CaptureReceipt): LeadSource | undefined {
  return lead.sources.find(
    (source) => source.source === receipt.source && source.platformLeadId === receipt.platformLeadId,
  );
}

export interface ApplyContext {
  leadId: string;
  now: string;
  identityConflicts?: IdentityConflict[];
}

/**
 * Merges a capture into the lead (or creates it). Values from the newest delivery win; a
 * delivery older than one already applied (a late platform retry) only fills empty fields.
 */
export function applyCapture(current: Lead | undefined, capture: Capture, context: ApplyContext): Lead {
  const base = current ?? emptyLead(context.leadId, context.now);
  const { receipt, lead: input } = capture;
  const newest = base.sources.every((source) => source.receivedAt <= receipt.receivedAt);
  const next: Lead = { ...base, custom: { ...base.custom }, consent: { ...base.consent } };
  const changed: string[] = [];

  const assign = (field: string, before: string | undefined, value: string | undefined, set: () => void) => {
    if (value === undefined || value === before || (before !== undefined && !newest)) return;
    set();
    changed.push(field);
  };
  for (const field of profileFields) {
    assign(field, base[field], input[field], () => {
      next[field] = input[field];
    });
  }
  for (const [name, value] of Object.entries(input.custom)) {
    assign(`custom.${name}`, base.custom[name], value, () => {
      next.custom[name] = value;
    });
  }
  // An identifier owned by another lead stays with it; the conflict is kept on this source.
  const ownedElsewhere = new Set(context.identityConflicts?.map(({ kind, value }) => `${kind}:${value}`));
  if (input.email && !ownedElsewhere.has(`email:${input.email}`)) mergeIdentifier(next, "email", input.email, changed);
  if (input.phone && !ownedElsewhere.has(`phone:${input.phone}`)) mergeIdentifier(next, "phone", input.phone, changed);
  mergeConsent(next, input.consent, receipt, changed);

  const source: LeadSource = {
    ...receipt,
    attribution: input.attribution,
    outcome: current ? "merged" : "created",
    changedFields: changed,
    ...(context.identityConflicts?.length ? { identityConflicts: context.identityConflicts } : {}),
  };
  return { ...next, sources: [...base.sources, source], updatedAt: context.now, version: base.version + 1 };
}

function emptyLead(id: string, now: string): Lead {
  return {
    id,
    emails: [],
    phones: [],
    custom: {},
    consent: {},
    sources: [],
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
}

function mergeIdentifier(lead: Lead, kind: "email" | "phone", value: string, changed: string[]): void {
  const all = kind === "email" ? lead.emails : lead.phones;
  if (all.includes(value)) return;
  if (kind === "email") lead.emails = [...all, value];
  else lead.phones = [...all, value];
  lead[kind] ??= value;
  changed.push(kind);
}

function mergeConsent(lead: Lead, given: NormalizedLead["consent"], receipt: CaptureReceipt, changed: string[]): void {
  for (const channel of ["email", "sms"] as const) {
    const granted = given[channel];
    const before = lead.consent[channel];
    if (granted === undefined || (before && before.at > receipt.receivedAt)) continue;
    if (before?.granted === granted) continue;
    lead.consent[channel] = { granted, at: receipt.receivedAt, source: receipt.source };
    changed.push(`consent.${channel}`);
  }
}
