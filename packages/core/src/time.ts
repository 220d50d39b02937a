import { DateTime, IANAZone } from "luxon";
import { z } from "zod";

/**
 * Durations, days of the week and hours of the day as marketers write them in config, and the
 * questions asked of them in a person's own time zone (DST included, through luxon).
 */

const durationUnits = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const durationPattern = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `90s`, `5m`, `1h30m`, `3d` as seconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match || text.trim() === "") return undefined;
  const [, days, hours, minutes, seconds] = match;
  return (
    Number(days ?? 0) * durationUnits.d +
    Number(hours ?? 0) * durationUnits.h +
    Number(minutes ?? 0) * durationUnits.m +
    Number(seconds ?? 0) * durationUnits.s
  );
}

/** A duration in config (`5m`, `1h30m`, `3d`), parsed to seconds. */
export const durationSchema = z
  .string()
  .describe("a duration: 90s, 5m, 1h30m, 3d")
  .transform((text, context) => {
    const seconds = parseDuration(text);
    if (seconds === undefined || seconds <= 0) {
      context.addIssue({ code: "custom", message: "a duration such as 90s, 5m, 1h30m or 3d" });
      return z.NEVER;
    }
    return seconds;
  });

export const timeZoneSchema = z
  .string()
  .refine((zone) => IANAZone.isValidZone(zone), "an IANA time zone, e.g. America/New_York")
  .describe("an IANA time zone, e.g. America/New_York");

const weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

/** `mon-fri`, `sat`, `mon,wed,fri`, `sat-sun`, `daily` → ISO weekdays (1 = Monday). */
export function parseDays(text: string): Set<number> | undefined {
  const days = new Set<number>();
  if (text.trim().toLowerCase() === "daily") return new Set([1, 2, 3, 4, 5, 6, 7]);
  for (const part of text.toLowerCase().split(",")) {
    const [from, to = from] = part.trim().split("-");
    const start = weekdays.indexOf(from as (typeof weekdays)[number]);
    const end = weekdays.indexOf(to as (typeof weekdays)[number]);
    if (start < 0 || end < 0) return undefined;
    for (let day = start; ; day = (day + 1) % 7) {
      days.add(day + 1);
      if (day === end) break;
    }
  }
  return days;
}

/** `09:00` → minutes after midnight. */
export function parseClock(text: string): number | undefined {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** Times of the week when someone works, in their own zone: a set of days, each a span of the day. */
export interface WeeklyHours {
  spans: { days: Set<number>; from: number; to: number }[];
}

/** `{ "mon-fri": "09:00-17:00", sat: "10:00-14:00" }` or `always`. */
export const weeklyHoursSchema = z
  .union([z.literal("always"), z.record(z.string(), z.string())])
  .describe('"always", or day spans to hours: { "mon-fri": "09:00-17:00" }')
  .transform((value, context): WeeklyHours | "always" => {
    if (value === "always") return value;
    const spans: WeeklyHours["spans"] = [];
    for (const [daysText, hoursText] of Object.entries(value)) {
      const days = parseDays(daysText);
      const [fromText = "", toText = ""] = hoursText.split("-");
      const from = parseClock(fromText);
      const to = parseClock(toText);
      if (!days)
        context.addIssue({ code: "custom", path: [daysText], message: "days such as mon-fri, sat or mon,wed" });
      if (from === undefined || to === undefined || from === to)
        context.addIssue({ code: "custom", path: [daysText], message: 'hours such as "09:00-17:00"' });
      if (days && from !== undefined && to !== undefined) spans.push({ days, from, to });
    }
    return { spans };
  });

/** Whether `at` falls in the hours, in `zone`. A span that ends before it starts runs past midnight. */
export function withinHours(hours: WeeklyHours | "always", zone: string, at: Date): boolean {
  if (hours === "always") return true;
  const local = DateTime.fromJSDate(at, { zone });
  const minute = local.hour * 60 + local.minute;
  const yesterday = ((local.weekday + 5) % 7) + 1;
  return hours.spans.some(({ days, from, to }) =>
    from < to
      ? days.has(local.weekday) && minute >= from && minute < to
      : (days.has(local.weekday) && minute >= from) || (days.has(yesterday) && minute < to),
  );
}

/** The next moment at or after `at` inside the hours (scanning minute spans for up to 8 days). */
export function nextWithinHours(hours: WeeklyHours | "always", zone: string, at: Date): Date | undefined {
  if (withinHours(hours, zone, at)) return at;
  if (hours === "always") return at;
  const local = DateTime.fromJSDate(at, { zone });
  let best: DateTime | undefined;
  for (let offset = 0; offset <= 8; offset++) {
    const day = local.startOf("day").plus({ days: offset });
    for (const { days, from } of hours.spans) {
      if (!days.has(day.weekday)) continue;
      const start = day.set({ hour: Math.floor(from / 60), minute: from % 60 });
      if (start > local && (!best || start < best)) best = start;
    }
    if (best) break;
  }
  return best?.toJSDate();
}

/** The calendar date at `at` in `zone`: `2026-11-24`. */
export function localDate(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toISODate() as string;
}
