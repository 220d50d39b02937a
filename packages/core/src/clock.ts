/**
 * The time every handler goes by. On AWS it is the system clock; under `npm start` it can be
 * moved forward (`POST /_local/clock`) so that waits, windows, decay and schedules play out in
 * seconds. The offset lives on `globalThis`, so every copy of this module in a process (each
 * local handler loads its own) reads the one the local runtime sets. Handlers take it from
 * @leadflow/lambda, which re-exports it; core's own code and the local runtime from here.
 */
const offsetKey = Symbol.for("leadflow.clock.offsetMs");

type ClockHolder = { [offsetKey]?: number };

function offsetMs(): number {
  return (globalThis as ClockHolder)[offsetKey] ?? 0;
}

export const clock = {
  now: (): Date => new Date(Date.now() + offsetMs()),
  nowIso: (): string => new Date(Date.now() + offsetMs()).toISOString(),
};

/** `npm start` only: how far this process's clock runs ahead of the system's. */
export function setLocalClockOffset(milliseconds: number): void {
  (globalThis as ClockHolder)[offsetKey] = milliseconds;
}

export function localClockOffset(): number {
  return offsetMs();
}
