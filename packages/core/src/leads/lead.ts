import { z } from "zod";
import type { DomainEvent } from "../domain-events/index.ts";
import { fieldRecord, toFieldRecord } from "../records.ts";
import type { Qualification } from "../scoring/qualify.ts";
import { type ProfileField, profileFields } from "./fields.ts";
import type { HistoryEntry } from "./history.ts";
import { leadLimits, maxPlatformLeadIdBytes, utf8Length } from "./limits.ts";
import type { NormalizedLead } from "./normalize.ts";

/** A platform's id for a delivery: it goes into keys, so it is limited in bytes. */
export const PlatformLeadIdSchema = z
  .string()
  .min(1)
  .refine((id) => utf8Length(id) <= maxPlatformLeadIdBytes, `at most ${maxPlatformLeadIdBytes} bytes (UTF-8)`);

/**
 * Where and when a platform delivered a lead. `(scope, platformLeadId)` is unique per delivery:
 * the scope is whoever guarantees the id, by default the source (see `deliveryScope`).
 */
export const CaptureReceiptSchema = z.object({
  source: z.string().min(1).max(64),
  platformLeadId: PlatformLeadIdSchema,
  /** Set when several sources share one sender's ids (form sources sharing a signing secret). */
  scope: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, "printable ASCII, at most 128 characters")
    .optional(),
  receivedAt: z.iso.datetime(),
  test: z.boolean(),
  /** A digest of what the delivery carried, to tell a repeated delivery whose content changed. */
  contentHash: z.string().max(64).optional(),
});
export type CaptureReceipt = z.infer<typeof CaptureReceiptSchema>;

/** What makes a delivery unique: its id within the scope of whoever issued it. */
export function deliveryScope(receipt: Pick<CaptureReceipt, "source" | "scope">): string {
  return receipt.scope ?? receipt.source;
}

export interface Capture {
  receipt: CaptureReceipt;
  lead: NormalizedLead;
}

export interface IdentityConflict {
  kind: "email" | "phone";
  value: string;
  ownerLeadId: string;
}

/** One delivery of this lead by a platform (what it changed is in the lead's history). */
export interface LeadSource extends Omit<CaptureReceipt, "contentHash"> {
  attribution: Record<string, string>;
  outcome: "created" | "merged";
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
  /** Fields no built-in name claimed, newest last; at most `leadLimits.customBytes`. */
  custom: Record<string, string>;
  consent: { email?: ConsentRecord; sms?: ConsentRecord };
  /** The first delivery and the newest ones (`leadLimits.sourcesKept`). */
  sources: LeadSource[];
  /** Every delivery applied to this lead; absent on leads stored before it was counted. */
  sourceCount?: number;
  createdAt: string;
  updatedAt: string;
  /** The rep (or manager) who accepted the lead from a speed-to-lead alert, and since when. */
  owner?: string;
  ownerSince?: string;
  /** Score, temperature and stage; absent until the lead is first scored. */
  qualification?: Qualification;
  /** Written with the lead, then carried out: see `flushPending`. */
  pending?: PendingEffects;
  /** Incremented by every write; saves are conditional on it. */
  version: number;
}

/**
 * History entries and domain events produced by a lead write, stored on the lead in that same
 * write (an outbox): if the process dies before carrying them out, the next writer of the lead
 * does it.
 */
export interface PendingEffects {
  history: HistoryEntry[];
  /** Domain events to publish (the name is kept from when they were all scoring's signals). */
  signals: DomainEvent[];
}

/** The delivery on the lead, if it is among those the lead still lists. */
export function findSource(lead: Lead, receipt: CaptureReceipt): LeadSource | undefined {
  const scope = deliveryScope(receipt);
  return lead.sources.find(
    (source) => deliveryScope(source) === scope && source.platformLeadId === receipt.platformLeadId,
  );
}

/** A capture merged into a lead, and what it changed. */
export interface AppliedCapture {
  lead: Lead;
  source: LeadSource;
  changedFields: string[];
  /** Older custom fields dropped to keep the lead within `leadLimits.customBytes`. */
  droppedCustomFields: number;
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
export function applyCapture(current: Lead | undefined, capture: Capture, context: ApplyContext): AppliedCapture {
  const base = current ?? emptyLead(context.leadId, context.now);
  const { receipt, lead: input } = capture;
  const newest = base.sources.every((source) => source.receivedAt <= receipt.receivedAt);
  const next: Lead = { ...base, custom: toFieldRecord(base.custom), consent: { ...base.consent } };
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
    assign(`custom.${name}`, next.custom[name], value, () => {
      // Re-inserted, so the newest values come last and are the last to be dropped.
      delete next.custom[name];
      next.custom[name] = value;
    });
  }
  const droppedCustomFields = keepCustomWithinBudget(next.custom);
  // An identifier owned by another lead stays with it; the conflict is kept on this source.
  const ownedElsewhere = new Set(context.identityConflicts?.map(({ kind, value }) => `${kind}:${value}`));
  if (input.email && !ownedElsewhere.has(`email:${input.email}`)) mergeIdentifier(next, "email", input.email, changed);
  if (input.phone && !ownedElsewhere.has(`phone:${input.phone}`)) mergeIdentifier(next, "phone", input.phone, changed);
  mergeConsent(next, input.consent, receipt, changed);

  const { contentHash: _contentHash, ...delivery } = receipt;
  const source: LeadSource = {
    ...delivery,
    attribution: input.attribution,
    outcome: current ? "merged" : "created",
    ...(context.identityConflicts?.length ? { identityConflicts: context.identityConflicts } : {}),
  };
  const lead: Lead = {
    ...next,
    sources: keptSources([...base.sources, source]),
    sourceCount: (base.sourceCount ?? base.sources.length) + 1,
    updatedAt: context.now,
    version: base.version + 1,
  };
  return { lead, source, changedFields: changed, droppedCustomFields };
}

function emptyLead(id: string, now: string): Lead {
  return {
    id,
    emails: [],
    phones: [],
    custom: fieldRecord(),
    consent: {},
    sources: [],
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
}

/** The first delivery and the newest ones. */
function keptSources(sources: LeadSource[]): LeadSource[] {
  const kept = leadLimits.sourcesKept;
  if (sources.length <= kept) return sources;
  return [sources[0] as LeadSource, ...sources.slice(sources.length - (kept - 1))];
}

/**
 * Drops the oldest custom fields (the first in the record) until the rest fits the budget, as
 * stored (JSON text, so escapes count); returns how many were dropped.
 */
export function keepCustomWithinBudget(custom: Record<string, string>): number {
  const sizes = Object.entries(custom).map(
    ([name, value]) => [name, storedSize(name) + storedSize(value) + 2] as const,
  );
  let total = sizes.reduce((sum, [, size]) => sum + size, 2);
  let dropped = 0;
  for (const [name, size] of sizes) {
    if (total <= leadLimits.customBytes) break;
    delete custom[name];
    total -= size;
    dropped++;
  }
  return dropped;
}

function storedSize(text: string): number {
  return utf8Length(JSON.stringify(text));
}

function mergeIdentifier(lead: Lead, kind: "email" | "phone", value: string, changed: string[]): void {
  const all = kind === "email" ? lead.emails : lead.phones;
  if (all.includes(value)) return;
  lead[kind] ??= value;
  // Past the limit the identifier is still claimed for this lead (it finds the lead), not listed.
  if (all.length >= leadLimits.identifiersPerKind) return;
  if (kind === "email") lead.emails = [...all, value];
  else lead.phones = [...all, value];
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
