import { type ScheduleDefinition, type ScheduleName, schedules } from "@leadflow/manifest";
import type { LocalTool } from "./gateway.ts";
import { functionNameOf, type LambdaHandler, lambdaContext } from "./lambda-runtime.ts";
import { reply } from "./reply.ts";

export interface LocalSchedules {
  /** Runs a schedule now (one run of a schedule at a time); returns its handler's result. */
  run(name: string): Promise<unknown>;
  /** `POST /_local/schedules/<name>`: what `npm run trigger -- <name>` calls. */
  tool: LocalTool;
  stop(): void;
}

/**
 * The stack's crons on local timers: each schedule runs every `localEverySeconds` (scaled by
 * `--fast`), and on demand. `load` imports a schedule's handler, in its own environment.
 */
export async function startSchedules(
  timeScale: number,
  load: (name: ScheduleName, definition: ScheduleDefinition) => Promise<LambdaHandler>,
): Promise<LocalSchedules> {
  const entries = Object.entries(schedules) as [ScheduleName, ScheduleDefinition][];
  const handlers = new Map(
    await Promise.all(
      entries.map(async ([name, definition]) => [name, { definition, handler: await load(name, definition) }] as const),
    ),
  );
  const running = new Map<string, Promise<unknown>>();

  async function run(name: string): Promise<unknown> {
    const entry = handlers.get(name as ScheduleName);
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

  const timers = entries.map(([name, definition]) =>
    setInterval(
      () => void run(name).catch((error: unknown) => console.error(`Schedule ${name} failed:`, error)),
      Math.max(1, definition.localEverySeconds * timeScale) * 1000,
    ).unref(),
  );

  const tool: LocalTool = async (request, response, path) => {
    const name = path.replace(/^\//, "");
    if (!name && request.method === "GET") return reply(response, 200, { schedules: [...handlers.keys()] });
    if (request.method !== "POST") return reply(response, 405, { error: { code: "method_not_allowed" } });
    try {
      const started = Date.now();
      const result = await run(name);
      reply(response, 200, { schedule: name, result: result ?? null, durationMs: Date.now() - started });
    } catch (error) {
      if (!(error instanceof UnknownScheduleError)) throw error;
      reply(response, 404, {
        error: { code: "not_found", message: error.message, details: { schedules: [...handlers.keys()] } },
      });
    }
  };

  return {
    run,
    tool,
    stop: () => {
      for (const timer of timers) clearInterval(timer);
    },
  };
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
    time: new Date().toISOString(),
    resources: [`local:schedule/${name}`],
    detail: {},
  };
}
