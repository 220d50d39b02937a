import { createHash } from "node:crypto";
import { z } from "zod";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { HistoryEntry } from "../leads/history.ts";
import type { Lead } from "../leads/lead.ts";
import { clipText, leadLimits } from "../leads/limits.ts";
import { type LeadUpdateDependencies, type LeadWriter, updateLead } from "../leads/updates.ts";
import { fieldRecord, fieldRecordSchema } from "../records.ts";
import type { ScoringModel } from "./config.ts";
import { type BehaviourEvent, type EngagementState, foldEvent, foldEvents, type RulePoints } from "./engagement.ts";
import { initialQualification, type QualifyCause, qualify } from "./qualify.ts";

/** How many applied event ids a lead remembers, to recognise a retried event without a read. */
export const rememberedEventIds = 256;
export const maxEventsPerRequest = 100;
/** A page's address in an event's history entry is cut to this length. */
const maxUrlInHistory = 300;
/** Clocks disagree; an event further in the future than this is refused. */
const clockSkewMs = 5 * 60 * 1000;

const propertyValue = z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]);

export const EventInputSchema = z.strictObject({
  id: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .describe("the client's id for this event: a retry with the same id counts once"),
  type: z.string().min(1).max(64),
  at: z.iso.datetime({ offset: true }).describe("when it happened, ISO 8601"),
  properties: fieldRecordSchema(propertyValue, z.string().min(1).max(128)).default(fieldRecord),
});
export type EventInput = z.infer<typeof EventInputSchema>;

/** `POST /leads/{id}/events`: one event, or `{ "events": [ … ] }`. */
export const EventsBodySchema = z.union([
  EventInputSchema,
  z.strictObject({ events: z.array(EventInputSchema).min(1).max(maxEventsPerRequest) }),
]);

/** An event as the events queue carries it: `at` in UTC. */
const QueuedEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  at: z.iso.datetime(),
  properties: fieldRecordSchema(z.unknown()),
});

/** What the events queue carries: the events of one request, for one lead. */
export const EventsMessageSchema = z.object({
  leadId: z.string().min(1),
  receivedAt: z.iso.datetime(),
  events: z.array(QueuedEventSchema).min(1),
});
export type EventsMessage = z.infer<typeof EventsMessageSchema>;

/** Checks a request's events against the config: known types, a url on page views, sane times. */
export function validateEvents(
  body: z.infer<typeof EventsBodySchema>,
  model: ScoringModel,
  now: Date,
): BehaviourEvent[] {
  const inputs = "events" in body ? body.events : [body];
  const issues: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  const events = inputs.map((input, index) => {
    const path = "events" in body ? `events.${index}` : "";
    const at = (field: string) => (path ? `${path}.${field}` : field);
    if (!model.eventTypes.has(input.type))
      issues.push({ path: at("type"), message: `unknown event type "${input.type}" (see config/scoring.yaml)` });
    if (input.type === "page_view" && typeof input.properties.url !== "string")
      issues.push({ path: at("properties.url"), message: "a page_view needs properties.url" });
    if (Date.parse(input.at) > now.getTime() + clockSkewMs)
      issues.push({ path: at("at"), message: "is in the future" });
    if (seen.has(input.id)) issues.push({ path: at("id"), message: `id "${input.id}" appears twice in this request` });
    seen.add(input.id);
    const event = { ...input, at: new Date(input.at).toISOString() };
    // What the scoring worker will parse: checked now, while the client can still be told.
    if (!QueuedEventSchema.safeParse(event).success)
      issues.push({ path: at("at"), message: "is outside the years 0000-9999 once converted to UTC" });
    return event;
  });
  if (issues.length > 0) throw new ValidationError("Some events are not valid", issues);
  return events;
}

export interface EventStore extends LeadWriter {
  /**
   * Stores each event under (lead, event id) unless that id is stored already (first write wins),
   * and returns what is stored under each id.
   */
  storeEvents(leadId: string, events: readonly BehaviourEvent[]): Promise<StoredEvent[]>;
  /** Every stored event of the lead (a consistent read): to replay them against a new config. */
  listEvents(leadId: string): Promise<StoredEvent[]>;
  /** Notes that these events are folded into the lead's score (after the lead was written). */
  markEventsApplied(leadId: string, eventIds: readonly string[]): Promise<void>;
}

export interface StoredEvent {
  event: BehaviourEvent;
  /** Marked as folded into the lead's score. A crash can leave an applied event unmarked for a while. */
  applied: boolean;
}

export interface ScoringDependencies extends LeadUpdateDependencies {
  repository: EventStore;
  model: ScoringModel;
  now: () => string;
}

export interface RecordedEvents {
  applied: number;
  duplicates: number;
}

/**
 * Records a lead's events exactly once: each is stored under its id first (so a retry, even with
 * a different body, finds the first one), then folded into the lead's score in a conditional
 * write that also remembers its id, then marked applied on the stored event. An event is applied
 * when it is marked or its id is among the lead's remembered ones: the lead remembers the ids of
 * its last writes, which covers a crash between the lead's write and the marking. Events are
 * folded in a few at a time (`leadLimits.eventsPerWrite`), so what a write leaves pending on the
 * lead stays small.
 */
export async function recordEvents(
  deps: ScoringDependencies,
  leadId: string,
  events: readonly BehaviourEvent[],
): Promise<RecordedEvents> {
  const ids = new Set<string>();
  const firstOfEach = events.filter((event) => !ids.has(event.id) && ids.add(event.id));
  const stored = await deps.repository.storeEvents(leadId, firstOfEach);
  let applied = 0;
  for (let start = 0; start < stored.length; start += leadLimits.eventsPerWrite) {
    const part = stored.slice(start, start + leadLimits.eventsPerWrite);
    let fresh: BehaviourEvent[] = [];
    const update = await updateLead(deps, leadId, async (lead) => {
      fresh = part.filter((entry) => !isApplied(lead, entry)).map(({ event }) => event);
      if (fresh.length === 0) return undefined;
      const replay = needsReplay(lead, deps.model) ? await appliedEvents(deps.repository, lead) : undefined;
      return applyEvents(lead, fresh, deps.model, deps.now(), replay);
    });
    if (!update) throw new NotFoundError(`No lead with id ${leadId}`);
    applied += fresh.length;
  }
  const unmarked = stored.filter((entry) => !entry.applied).map(({ event }) => event.id);
  if (unmarked.length > 0) await deps.repository.markEventsApplied(leadId, unmarked);
  return { applied, duplicates: events.length - applied };
}

function isApplied(lead: Lead, { event, applied }: StoredEvent): boolean {
  if (applied) return true;
  const remembered = lead.qualification?.recentEventIds ?? [];
  return remembered.includes(eventKey(event.id)) || remembered.includes(event.id);
}

/**
 * How a lead remembers an applied event: a short digest of its id, so the list stays small
 * whatever ids clients choose. Leads of earlier releases remembered the ids themselves.
 */
export function eventKey(eventId: string): string {
  return `#${createHash("sha256").update(eventId).digest("hex").slice(0, 16)}`;
}

const eventKeyPattern = /^#[0-9a-f]{16}$/;

/** The lead's remembered events, as keys (ids remembered by earlier releases are turned into keys). */
export function rememberedEvents(qualification: { recentEventIds: string[] } | undefined): string[] {
  return (qualification?.recentEventIds ?? []).map((entry) => (eventKeyPattern.test(entry) ? entry : eventKey(entry)));
}

/**
 * The lead's events that are folded into its score, for a replay. Events another delivery has
 * stored but not yet applied are left out: that delivery applies them itself.
 */
export async function appliedEvents(repository: EventStore, lead: Lead): Promise<BehaviourEvent[]> {
  const stored = await repository.listEvents(lead.id);
  return stored.filter((entry) => isApplied(lead, entry)).map(({ event }) => event);
}

/** Whether the lead was scored with another config and has events to score again. */
export function needsReplay(lead: Lead, model: ScoringModel): boolean {
  const qualification = lead.qualification;
  return !!qualification && qualification.configVersion !== model.version && qualification.recentEventIds.length > 0;
}

/**
 * The lead with `events` folded in, scored and qualified at `now`, and a history entry per event
 * naming the rules and points it earned. With `replay` (the events applied before these),
 * engagement is rebuilt from scratch, as after a config change.
 */
export function applyEvents(
  lead: Lead,
  events: readonly BehaviourEvent[],
  model: ScoringModel,
  now: string,
  replay?: readonly BehaviourEvent[],
): Lead {
  const previous = lead.qualification ?? initialQualification(lead.createdAt, model.version);
  const ordered = [...events].sort((a, b) => a.at.localeCompare(b.at));
  let engagement: EngagementState;
  let scored: RulePoints[][];
  if (replay) {
    engagement = foldEvents([...replay, ...ordered], model);
    scored = ordered.map((event) => pointsFor(event, model));
  } else {
    engagement = structuredClone(previous.engagement);
    scored = ordered.map((event) => foldEvent(engagement, event, model));
  }
  const eventIds = ordered.map((event) => event.id);
  const cause: QualifyCause = { kind: "events", eventIds };
  const version = lead.version + 1;
  const result = qualify(lead, model, { now, version, cause, engagement });
  const recentEventIds = [...rememberedEvents(previous), ...eventIds.map(eventKey)].slice(-rememberedEventIds);
  const eventEntries = ordered.map((event, index) => eventHistoryEntry(lead.id, event, scored[index] ?? [], model));
  return {
    ...lead,
    qualification: { ...result.qualification, recentEventIds },
    pending: { history: [...eventEntries, ...result.history], signals: result.signals },
    updatedAt: now,
    version,
  };
}

/** The rules an event matches and their points, without folding it in. */
export function pointsFor(event: BehaviourEvent, model: ScoringModel): RulePoints[] {
  return (model.rulesByEvent.get(event.type) ?? [])
    .filter((rule) => rule.test(event.properties))
    .map((rule) => ({ rule: rule.id, points: rule.points }));
}

function eventHistoryEntry(
  leadId: string,
  event: BehaviourEvent,
  rules: RulePoints[],
  model: ScoringModel,
): HistoryEntry {
  const url = typeof event.properties.url === "string" ? clipText(event.properties.url, maxUrlInHistory) : undefined;
  const points = rules.length
    ? rules.map(({ rule, points }) => `${points >= 0 ? "+" : ""}${points} ${rule}`).join(", ")
    : "no rule matched";
  return {
    leadId,
    id: `event:${event.id}`,
    at: event.at,
    type: "lead.event",
    summary: `${event.type}${url ? ` ${url}` : ""}: ${points}`,
    // The properties stay on the stored event: a batch of large ones must not outgrow the lead's outbox.
    details: { eventId: event.id, type: event.type, ...(url ? { url } : {}), rules, configVersion: model.version },
  };
}

/**
 * Scores the lead again at `now`: decay, stale BANT answers, and (`cause.kind === "rescore"`) the
 * current config, replaying its events. Returns undefined when nothing would change.
 */
export async function requalify(
  deps: ScoringDependencies,
  lead: Lead,
  cause: Extract<QualifyCause, { kind: "decay" | "rescore" }>,
): Promise<Lead | undefined> {
  const { model } = deps;
  const previous = lead.qualification;
  const replay = cause.kind === "rescore" || needsReplay(lead, model);
  if (previous && previous.configVersion === model.version && cause.kind === "rescore") return undefined;
  const engagement =
    replay && previous?.recentEventIds.length
      ? foldEvents(await appliedEvents(deps.repository, lead), model)
      : previous?.engagement;
  const now = deps.now();
  const version = lead.version + 1;
  const result = qualify(lead, model, { now, version, cause, ...(engagement ? { engagement } : {}) });
  const next = result.qualification;
  const unchanged =
    previous &&
    previous.configVersion === next.configVersion &&
    previous.temperature === next.temperature &&
    previous.stage === next.stage &&
    previous.coolsAt === next.coolsAt;
  if (unchanged) return undefined;
  const history = [...result.history];
  if (cause.kind === "rescore") history.push(rescoreEntry(lead, previous, next, now, version, model));
  return {
    ...lead,
    qualification: { ...next, recentEventIds: rememberedEvents(previous) },
    pending: { history, signals: result.signals },
    updatedAt: now,
    version,
  };
}

function rescoreEntry(
  lead: Lead,
  previous: Lead["qualification"],
  next: NonNullable<Lead["qualification"]>,
  now: string,
  version: number,
  model: ScoringModel,
): HistoryEntry {
  const before = previous?.score.total ?? 0;
  return {
    leadId: lead.id,
    id: `lead.rescored:${version}`,
    at: now,
    type: "lead.rescored",
    summary: `Re-scored with config ${model.version}: score ${before} → ${next.score.total}`,
    details: {
      previousConfigVersion: previous?.configVersion ?? null,
      configVersion: model.version,
      before: previous?.score ?? null,
      after: next.score,
    },
  };
}
