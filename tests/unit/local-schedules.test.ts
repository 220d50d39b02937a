import { schedules } from "@leadflow/manifest";
import { Cron } from "croner";
import { afterEach, describe, expect, it, vi } from "vitest";
import { localCronPattern, startSchedules } from "../../packages/local/src/schedules.ts";

const nextAfter = (expression: string, from: string) =>
  new Cron(localCronPattern(expression), { timezone: "UTC", paused: true }).nextRun(new Date(from))?.toISOString();

describe("local schedules run from the stack's EventBridge cron expressions", () => {
  it("reads every schedule of the manifest", () => {
    for (const { schedule } of Object.values(schedules)) expect(() => localCronPattern(schedule)).not.toThrow();
  });

  it("takes ? as a wildcard and ignores the year", () => {
    expect(nextAfter("cron(15 5 * * ? *)", "2026-12-03T06:00:00Z")).toBe("2026-12-04T05:15:00.000Z");
    expect(nextAfter("cron(0/5 * * * ? *)", "2026-12-03T06:01:00Z")).toBe("2026-12-03T06:05:00.000Z");
  });

  it("counts days of the week as EventBridge does (1 = Sunday), by number or by name", () => {
    // 2026-12-05 is a Saturday: the next weekday run is Monday the 7th.
    expect(nextAfter("cron(0 10 ? * 2-6 *)", "2026-12-05T12:00:00Z")).toBe("2026-12-07T10:00:00.000Z");
    expect(nextAfter("cron(0 10 ? * MON-FRI *)", "2026-12-05T12:00:00Z")).toBe("2026-12-07T10:00:00.000Z");
    expect(nextAfter("cron(0 10 ? * 1 *)", "2026-12-05T12:00:00Z")).toBe("2026-12-06T10:00:00.000Z");
  });

  it("refuses what is not a cron expression", () => {
    expect(() => localCronPattern("rate(5 minutes)")).toThrow(/cron expression/);
    expect(() => localCronPattern("cron(0 10 * *)")).toThrow(/cron expression/);
  });
});

describe("local schedule timers", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("with --fast run each schedule once per scaled period, not in a burst as the clock lags behind", async () => {
    vi.useFakeTimers({ now: new Date("2026-12-03T10:01:00Z") });
    const runs: string[] = [];
    const schedules = await startSchedules(1 / 30, async (name) => async () => {
      runs.push(name);
    });
    // nurture-step is every 5 minutes: every 10 s with --fast. 61 s hold six of its runs.
    await vi.advanceTimersByTimeAsync(61_000);
    schedules.stop();
    expect(runs.filter((name) => name === "nurture-step")).toHaveLength(6);
    expect(runs.filter((name) => name === "refresh-temperatures")).toHaveLength(0);
  });
});
