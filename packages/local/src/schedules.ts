import { clock } from "@leadflow/core";
import { type ScheduleDefinition, type ScheduleName, schedules } from "@leadflow/manifest";
import { Cron } from "croner";
import type { LocalTool } from "./gateway.ts";
import { functionNameOf, type LambdaHandler, lambdaContext } from "./lambda-runtime.ts";
import { reply } from "./reply.ts";

export interface LocalSchedules {
  /** Runs a schedule now (one run of a schedule at a time); returns its handler's result. */
  run(name: string): Promise<unknown>;
  /** `GET /_local/schedules` lists them; `POST /_local/schedules/<name>` is what `npm run trigger -- <name>` calls. */
  tool: LocalTool;
  /** The local clock moved from `from`: what came due in the time skipped runs once now, and the timers are set again. */
  clockMoved(from: Date): Promise<void>;
  /** Each schedule's next run on the local clock. */
  list(): { name: string; schedule: string; nextRun: string | undefined }[];
  stop(): void;
}

interface ArmedSchedule {
  definition: ScheduleDefinition;
  handler: LambdaHandler;
  cron: Cron;
  nextRun?: Date | undefined;
  /** The cron time its last timed run stood for (ahead of the clock with --fast). */
  ranFor?: Date | undefined;
  timer?: NodeJS.Timeout;
}

/** Timers longer than this (about 24.8 days) overflow in Node; a longer wait is taken in steps. */
const longestTimerMs = 2 ** 31 - 1;

/**
 * The stack's crons on local timers: each schedule runs when its EventBridge cron expression comes
 * due on the local clock (the real wait scaled by `--fast`), and on demand. `load` imports a
 * schedule's handler, in its own environment.
 */
export async function startSchedules(
  timeScale: number,
  load: (name: ScheduleName, definition: ScheduleDefinition) => Promise<LambdaHandler>,
): Promise<LocalSchedules> {
  const entries = Object.entries(schedules) as [ScheduleName, ScheduleDefinition][];
  const armed = new Map<ScheduleName, ArmedSchedule>();
  for (const [name, definition] of entries) {
    armed.set(name, {
      definition,
      handler: await load(name, definition),
      cron: new Cron(localCronPattern(definition.schedule), { timezone: "UTC", paused: true }),
    });
  }
  const running = new Map<string, Promise<unknown>>();
  let stopped = false;

  async function run(name: string): Promise<unknown> {
    const entry = armed.get(name as ScheduleName);
    if (!entry) throw new UnknownScheduleError(name);
    const previous = running.get(name) ?? Promise.resolve();
    const { definition, handler } = entry;
    const next = previous
      .catch(() => undefined)
      .then(() =>
        handler(
          scheduledEvent(name),
          lambdaContext(functionNameOf(definition.handler), definition.timeoutSeconds ?? 900),
        ),
      );
    running.set(name, next);
    return next;
  }

  function runLogged(name: string): Promise<void> {
    return run(name).then(
      () => undefined,
      (error: unknown) => console.error(`Schedule ${name} failed:`, error),
    );
  }

  function arm(name: ScheduleName): void {
    const entry = armed.get(name);
    if (!entry || stopped) return;
    clearTimeout(entry.timer);
    // With --fast a run comes before the clock reaches its time: the next is counted from it.
    const now = clock.now();
    const from = entry.ranFor && entry.ranFor > now ? entry.ranFor : now;
    const due = entry.cron.nextRun(from) ?? undefined;
    entry.nextRun = due;
    if (!due) return;
    const waitMs = Math.min(longestTimerMs, Math.max(0, (due.getTime() - from.getTime()) * timeScale));
    entry.timer = setTimeout(() => {
      if (waitMs === longestTimerMs) return arm(name);
      entry.ranFor = due;
      void runLogged(name).finally(() => arm(name));
    }, waitMs).unref();
  }

  for (const name of armed.keys()) arm(name);

  const list = () =>
    [...armed].map(([name, entry]) => ({
      name,
      schedule: entry.definition.schedule,
      nextRun: entry.nextRun?.toISOString(),
    }));

  const tool: LocalTool = async (request, response, path) => {
    const name = path.replace(/^\//, "");
    if (!name && request.method === "GET") return reply(response, 200, { now: clock.nowIso(), schedules: list() });
    if (request.method !== "POST") return reply(response, 405, { error: { code: "method_not_allowed" } });
    try {
      const started = Date.now();
      const result = await run(name);
      reply(response, 200, { schedule: name, result: result ?? null, durationMs: Date.now() - started });
    } catch (error) {
      if (!(error instanceof UnknownScheduleError)) throw error;
      reply(response, 404, {
        error: { code: "not_found", message: error.message, details: { schedules: [...armed.keys()] } },
      });
    }
  };

  return {
    run,
    tool,
    list,
    async clockMoved(from) {
      const now = clock.now();
      const due = [...armed].filter(([, entry]) => (entry.cron.nextRun(from) ?? now) <= now).map(([name]) => name);
      for (const entry of armed.values()) {
        clearTimeout(entry.timer);
        entry.ranFor = undefined;
      }
      // In the manifest's order (enrolment before the step tick), as their minutes would have them.
      for (const name of due) await runLogged(name);
      for (const name of armed.keys()) arm(name);
    },
    stop: () => {
      stopped = true;
      for (const entry of armed.values()) clearTimeout(entry.timer);
    },
  };
}

/**
 * An EventBridge `cron(minutes hours day-of-month month day-of-week year)` as a croner pattern:
 * `?` is a wildcard, `0/5` a range with a step, the year field is ignored (croner has none), and EventBridge's days of the
 * week (1-7 = SUN-SAT) become croner's (0-6 = SUN-SAT); names (MON-FRI) are kept.
 */
export function localCronPattern(expression: string): string {
  const inner = /^cron\((.+)\)$/.exec(expression.trim())?.[1];
  const fields = inner?.trim().split(/\s+/);
  if (fields?.length !== 6) throw new Error(`Not an EventBridge cron expression: ${expression}`);
  const highest = [59, 23, 31, 12, 7];
  const [minutes, hours, dayOfMonth, month, dayOfWeek] = fields.slice(0, 5).map((field, index) =>
    field
      .replaceAll("?", "*")
      // `0/5` (from 0, every 5) is `0-59/5` to croner.
      .replace(/(?<![-\d])(\d+)\/(\d+)/g, (_, start, step) => `${start}-${highest[index]}/${step}`),
  );
  const weekdays = (dayOfWeek as string).replace(/(?<![#/])\d+/g, (day) => String(Number(day) - 1));
  return [minutes, hours, dayOfMonth, month, weekdays].join(" ");
}

class UnknownScheduleError extends Error {
  override readonly name = "UnknownScheduleError";

  constructor(name: string) {
    super(`No schedule named "${name}"`);
  }
}

/** What EventBridge Scheduler hands a target. */
function scheduledEvent(name: string) {
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    time: clock.nowIso(),
    resources: [`local:schedule/${name}`],
    detail: {},
  };
}
