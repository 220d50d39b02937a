import { DateTime } from "luxon";
import { z } from "zod";

/**
 * When a nurture message may go: a sequence's send window, SMS hours, and the caps on messages
 * per lead, all in the lead's own time zone(s) (see zones.ts). Pure: the caller passes the
 * clock, the lead's zones and the times of the messages already sent. See docs/nurture.md.
 */

import { zoneNamePattern } from "../leads/timezone.ts";

export { canonicalTimeZone, type LeadTimeZones, leadTimeZones, type ZoneSource } from "./zones.ts";

const minute = 60_000;
const day = 1_440 * minute;

/**
 * Days (ISO, 1 = Monday … 7 = Sunday) and a span of each, in minutes after local midnight:
 * `from` inclusive, `to` exclusive (1440 = midnight at the end of the day). A span with
 * `to < from` runs past midnight into the next day, which need not be one of `days`.
 */
export interface SendWindow {
  days: readonly number[];
  from: number;
  to: number;
}

export const SendWindowSchema = z
  .strictObject({
    days: z.array(z.int().min(1).max(7)).min(1).describe("ISO weekdays, 1 = Monday … 7 = Sunday"),
    from: z.int().min(0).max(1_439).describe("minutes after local midnight, inclusive"),
    to: z.int().min(1).max(1_440).describe("minutes after local midnight, exclusive; before `from`: past midnight"),
  })
  .refine(({ from, to }) => from !== to, { message: "`from` and `to` must differ", path: ["to"] });

/** Every day of the week, all day: what a sequence without a window means. */
export const anyTime: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], from: 0, to: 1_440 };

/** When an SMS may reach someone: 08:00 to 21:00 in their zone, every day (quiet hours outside it). */
export const smsSendingHours: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], from: 8 * 60, to: 21 * 60 };

export type Channel = "email" | "sms";

/** The windows that must all hold for a message of this channel: the sequence's, and SMS hours for SMS. */
export function channelWindows(channel: Channel, window: SendWindow | undefined): SendWindow[] {
  const own = window ?? anyTime;
  return channel === "sms" ? [own, smsSendingHours] : [own];
}

type Windows = SendWindow | readonly SendWindow[];

function listOf(windows: Windows): readonly SendWindow[] {
  return "days" in windows ? [windows as SendWindow] : (windows as readonly SendWindow[]);
}

/** Whether every window holds at `at` in every zone. */
export function windowHolds(windows: Windows, zones: readonly string[], at: Date): boolean {
  const instant = at.getTime();
  const list = listOf(windows);
  return zones.every((zone) => {
    const local = instant + offsetMinutes(zone, instant) * minute;
    const localDay = Math.floor(local / day);
    const minuteOfDay = Math.floor((local - localDay * day) / minute);
    const weekday = isoWeekday(localDay);
    const yesterday = weekday === 1 ? 7 : weekday - 1;
    return list.every(({ days, from, to }) =>
      from < to
        ? days.includes(weekday) && minuteOfDay >= from && minuteOfDay < to
        : (days.includes(weekday) && minuteOfDay >= from) || (days.includes(yesterday) && minuteOfDay < to),
    );
  });
}

/** How far ahead `nextSendTime` looks: two weeks and a day, so any weekly window and DST change is seen. */
export const searchHorizonDays = 15;

/**
 * The earliest instant at or after `at` when every window holds in every zone (DST included),
 * or undefined when there is none in the next `searchHorizonDays` days (e.g. zones 12 hours
 * apart and a window shorter than 12 hours).
 */
export function nextSendTime(windows: Windows, zones: readonly string[], at: Date): Date | undefined {
  const start = at.getTime();
  const end = start + searchHorizonDays * day;
  let allowed: Interval[] = [[start, end]];
  const seen = new Set<string>();
  for (const zone of zones) {
    const segments = offsetSegments(zone, start, end);
    // Zones with the same offsets over the horizon (most of a country's) allow the same instants.
    const signature = segments.map(({ from, offset }) => `${from}:${offset}`).join(",");
    if (seen.has(signature)) continue;
    seen.add(signature);
    for (const window of listOf(windows)) {
      allowed = intersect(allowed, windowIntervals(window, segments));
      if (allowed.length === 0) return undefined;
    }
  }
  const first = allowed.find(([, until]) => until > start);
  return first ? new Date(Math.max(first[0], start)) : undefined;
}

/** Half-open [from, to) in epoch milliseconds. */
type Interval = [number, number];

interface OffsetSegment {
  from: number;
  to: number;
  /** Minutes east of UTC. */
  offset: number;
}

/** Sampling step for offset changes: no zone changes its offset twice within 6 hours. */
const sampleStep = 6 * 60 * minute;

/** [start, end] cut where the zone's offset changes, each change found to the minute. */
function offsetSegments(zone: string, start: number, end: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let from = start;
  let offset = offsetMinutes(zone, start);
  // Samples on a fixed grid, so that they are remembered from one call to the next.
  for (let step = Math.floor(start / sampleStep) + 1; ; step++) {
    const sample = Math.min(step * sampleStep, end);
    const next = sampledOffset(zone, step, sample);
    if (next !== offset) {
      // The change is at a whole minute after the previous sample: the first minute with the new offset.
      const change = Math.max(changeMinute(zone, Math.max(sample - sampleStep, from), sample, next), from);
      segments.push({ from, to: change, offset });
      from = change;
      offset = next;
    }
    if (sample >= end) break;
  }
  segments.push({ from, to: end, offset });
  return segments.filter((segment) => segment.to > segment.from);
}

function changeMinute(zone: string, before: number, after: number, offset: number): number {
  let low = Math.floor(before / minute);
  let high = Math.floor(after / minute);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (offsetMinutes(zone, middle * minute) === offset) high = middle;
    else low = middle;
  }
  return high * minute;
}

const formats = new Map<string, Intl.DateTimeFormat>();
const samples = new Map<string, number>();

/** The offset at a grid point, remembered (a few thousand entries at most, then forgotten). */
function sampledOffset(zone: string, step: number, instant: number): number {
  if (instant !== step * sampleStep) return offsetMinutes(zone, instant);
  const key = `${zone} ${step}`;
  let offset = samples.get(key);
  if (offset === undefined) {
    if (samples.size >= 50_000) samples.clear();
    offset = offsetMinutes(zone, instant);
    samples.set(key, offset);
  }
  return offset;
}

/** Minutes east of UTC in `zone` at `instant` (Intl's `GMT-05:00`, read; four times luxon's speed). */
function offsetMinutes(zone: string, instant: number): number {
  let format = formats.get(zone);
  if (!format) {
    if (!zoneNamePattern.test(zone)) throw new RangeError(`Not an IANA time zone: ${JSON.stringify(zone)}`);
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
    formats.set(zone, format);
  }
  const match = /GMT(?:([+-])(\d\d):(\d\d))?/.exec(format.format(instant));
  if (!match?.[1]) return 0;
  return (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

/** The instants of the segments when the window holds, in order and merged. */
function windowIntervals({ days, from, to }: SendWindow, segments: readonly OffsetSegment[]): Interval[] {
  const length = (to > from ? to - from : to + 1_440 - from) * minute;
  const intervals: Interval[] = [];
  for (const segment of segments) {
    const shift = segment.offset * minute;
    const firstDay = Math.floor((segment.from + shift) / day) - 1;
    const lastDay = Math.floor((segment.to + shift) / day);
    for (let localDay = firstDay; localDay <= lastDay; localDay++) {
      if (!days.includes(isoWeekday(localDay))) continue;
      const opens = localDay * day + from * minute - shift;
      const start = Math.max(opens, segment.from);
      const until = Math.min(opens + length, segment.to);
      if (start < until) intervals.push([start, until]);
    }
  }
  intervals.sort((a, b) => a[0] - b[0]);
  const merged: Interval[] = [];
  for (const interval of intervals) {
    const last = merged.at(-1);
    if (last && interval[0] <= last[1]) last[1] = Math.max(last[1], interval[1]);
    else merged.push([...interval]);
  }
  return merged;
}

function intersect(left: readonly Interval[], right: readonly Interval[]): Interval[] {
  const both: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const [a, b] = left[i] as Interval;
    const [c, d] = right[j] as Interval;
    const start = Math.max(a, c);
    const until = Math.min(b, d);
    if (start < until) both.push([start, until]);
    if (b < d) i++;
    else j++;
  }
  return both;
}

/** 1970-01-01 (local day 0) was a Thursday. */
function isoWeekday(localDay: number): number {
  return ((((localDay + 3) % 7) + 7) % 7) + 1;
}

/** Messages to one lead, all channels and sequences: at most `perDay` per local calendar day, `perWeek` per 7 × 24 hours. */
export interface Caps {
  perDay?: number;
  perWeek?: number;
}

export const CapsSchema = z.strictObject({
  perDay: z.int().min(1).optional().describe("messages per calendar day in the lead's zone"),
  perWeek: z.int().min(1).optional().describe("messages in any 7 × 24 hours"),
});

export interface CapInput {
  /** When each message to this lead was sent (ISO 8601), every channel and sequence. */
  sentAt: readonly string[];
  caps: Caps;
  /** The lead's zone(s): with several, the day cap holds in each zone's calendar day. */
  zone: string | readonly string[];
  at: Date;
}

export type CapDecision = { allowed: true } | { allowed: false; retryAt: Date };

/** Whether one more message fits the caps at `at`, else the earliest moment it does. */
export function capDecision({ sentAt, caps, zone, at }: CapInput): CapDecision {
  const free = capsFreeAt(sentTimes(sentAt), caps, typeof zone === "string" ? [zone] : zone, at.getTime());
  return free === at.getTime() ? { allowed: true } : { allowed: false, retryAt: new Date(free) };
}

const week = 7 * day;

/** The earliest instant ≥ `at` when one more message fits every cap. */
function capsFreeAt(sent: readonly number[], caps: Caps, zones: readonly string[], at: number): number {
  checkCap(caps.perDay, "perDay");
  checkCap(caps.perWeek, "perWeek");
  let instant = at;
  // Each round moves past a full day or a message leaving the week, so few rounds are ever needed.
  for (let round = 0; round < 1_000; round++) {
    let next = instant;
    if (caps.perDay !== undefined) {
      for (const zone of zones) {
        const today = DateTime.fromMillis(instant, { zone }).startOf("day");
        const tomorrow = today.plus({ days: 1 }).startOf("day").toMillis();
        const start = today.toMillis();
        const count = sent.filter((time) => time >= start && time < tomorrow).length;
        if (count >= caps.perDay) next = Math.max(next, tomorrow);
      }
    }
    if (caps.perWeek !== undefined) {
      const inWeek = sent.filter((time) => time > instant - week);
      if (inWeek.length >= caps.perWeek) {
        // The week frees when enough of its oldest messages have left it.
        next = Math.max(next, (inWeek[inWeek.length - caps.perWeek] as number) + week);
      }
    }
    if (next === instant) return instant;
    instant = next;
  }
  throw new Error("Caps did not settle: sentAt holds too many future messages");
}

function checkCap(cap: number | undefined, name: string): void {
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1))
    throw new RangeError(`${name} must be a whole number ≥ 1, not ${cap}`);
}

/** Sorted epoch milliseconds; a time that is not ISO 8601 throws (a cap must never undercount). */
function sentTimes(sentAt: readonly string[]): number[] {
  return sentAt
    .map((text) => {
      const time = Date.parse(text);
      if (Number.isNaN(time)) throw new RangeError(`Not a time: ${JSON.stringify(text)}`);
      return time;
    })
    .sort((a, b) => a - b);
}

export interface SendInput {
  channel: Channel;
  /** The sequence's window; none means any time (SMS hours still apply to SMS). */
  window?: SendWindow;
  /** From `leadTimeZones`. */
  zones: readonly string[];
  sentAt: readonly string[];
  caps?: Caps;
  at: Date;
}

export type SendPlan =
  | { send: true }
  /**
   * Deferred to `until`, never dropped. `reason` names what held it at `at`; `no-common-window`:
   * the windows never hold together in all the lead's zones within the horizon, and `until` is
   * when to look again.
   */
  | { send: false; until: Date; reason: "cap" | "window" | "sms-hours" | "no-common-window" };

/**
 * Send now, or the earliest moment when the caps allow one more message and every window
 * (the sequence's, and SMS hours for an SMS) holds in every zone of the lead.
 */
export function planSend({ channel, window, zones, sentAt, caps = {}, at }: SendInput): SendPlan {
  const windows = channelWindows(channel, window);
  const sent = sentTimes(sentAt);
  const now = at.getTime();
  let instant = now;
  for (let round = 0; round < 100; round++) {
    const capsFree = capsFreeAt(sent, caps, zones, instant);
    const opens = nextSendTime(windows, zones, new Date(capsFree));
    if (opens === undefined) {
      return { send: false, until: new Date(capsFree + searchHorizonDays * day), reason: "no-common-window" };
    }
    // The window opened later than the caps freed: the caps are asked again at that moment.
    if (opens.getTime() === capsFree) {
      if (capsFree === now) return { send: true };
      return { send: false, until: opens, reason: reasonAt(sent, caps, zones, windows, window, at) };
    }
    instant = opens.getTime();
  }
  throw new Error("No send time settled: sentAt holds too many future messages");
}

function reasonAt(
  sent: readonly number[],
  caps: Caps,
  zones: readonly string[],
  windows: readonly SendWindow[],
  window: SendWindow | undefined,
  at: Date,
): "cap" | "window" | "sms-hours" {
  if (capsFreeAt(sent, caps, zones, at.getTime()) !== at.getTime()) return "cap";
  if (windows.length > 1 && windowHolds(window ?? anyTime, zones, at)) return "sms-hours";
  return "window";
}

/** An inbound SMS keyword: revokes SMS consent, restores it, or asks for help. */
export type SmsKeyword = "stop" | "start" | "help";

const keywords: ReadonlyMap<string, SmsKeyword> = new Map([
  ...["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT", "OPTOUT"].map(
    (word) => [word, "stop"] as const,
  ),
  ...["START", "UNSTOP"].map((word) => [word, "start"] as const),
  ["HELP", "help"],
]);

/**
 * The keyword an inbound SMS is, as carriers read it: the whole message, ignoring case,
 * surrounding spaces and final punctuation (`Stop`, ` STOP. `, `opt-out`); `stop texting me`
 * is not a keyword.
 */
export function inboundSmsKeyword(body: string): SmsKeyword | undefined {
  const word = body
    .normalize("NFKC")
    .trim()
    .replace(/[.!?]+$/u, "")
    .replace(/[\s-]+/gu, " ")
    .trim()
    .toUpperCase();
  return keywords.get(word);
}
