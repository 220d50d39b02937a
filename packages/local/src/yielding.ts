/**
 * On one machine the API and the queue workers share the CPU; the acknowledgement is what
 * platforms see, so the workers yield to it. The gateway reports when it is busy answering
 * requests, and while it is, the worker runs one batch at a time and rests between batches:
 * ingestion slows down under load but never stops.
 */

export interface ActivityOptions {
  /** The span over which the API's occupancy is measured. */
  windowMs?: number;
  /** The share of a window with a request under way from which the API counts as busy. */
  busyShare?: number;
}

/**
 * Gateway side: busy while requests were under way for at least `busyShare` of the last window,
 * idle again after a window below it. Measuring occupancy rather than the mere presence of a
 * request lets a trickle (a form a second, an alert accepted) leave the workers at full speed,
 * while a burst that keeps the API occupied makes them yield within one window; slower answers
 * under contention raise the occupancy, so the signal strengthens when the API suffers.
 */
export function requestActivity(
  onChange: (busy: boolean) => void,
  { windowMs = 100, busyShare = 0.5 }: ActivityOptions = {},
) {
  let inFlight = 0;
  let busy = false;
  let occupiedMs = 0;
  let accountedUntil = 0;
  let windowStarted = 0;
  let timer: NodeJS.Timeout | undefined;

  function account(now: number): void {
    if (inFlight > 0) occupiedMs += now - accountedUntil;
    accountedUntil = now;
  }

  function endWindow(): void {
    const now = performance.now();
    account(now);
    const share = occupiedMs / Math.max(1, now - windowStarted);
    occupiedMs = 0;
    windowStarted = now;
    if (share >= busyShare !== busy) {
      busy = !busy;
      onChange(busy);
    }
    // Measuring stops while nothing happens, and starts again with the next request.
    if (!busy && inFlight === 0 && share === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    started(): void {
      const now = performance.now();
      account(now);
      inFlight++;
      if (!timer) {
        windowStarted = now;
        occupiedMs = 0;
        timer = setInterval(endWindow, windowMs);
        timer.unref();
      }
    },
    finished(): void {
      account(performance.now());
      inFlight--;
    },
  };
}

/** While the API is busy, a batch is followed by a rest this many times as long as itself. */
const restFactor = 2;

/**
 * Worker side. While the API is idle, pollers run freely, as many at once as there are. While it
 * is busy, they take turns: one receives and handles its batch, then rests twice as long as the
 * batch took before the next one's turn. Ingestion goes on at about a third of the pace of one
 * poller, the rest of the CPU is left to the API (docs/benchmarks.md measures the trade), and no
 * message is received before its turn, so none waits out its visibility timeout in a queue here.
 */
export function ingestionGate() {
  let busy = false;
  let turn: Promise<void> = Promise.resolve();
  return {
    setBusy(value: boolean): void {
      busy = value;
    },
    /** Whether pollers are taking turns now: a turn must then not be spent long-polling an empty queue. */
    get busy(): boolean {
      return busy;
    },
    /** Waits for this poller's turn; the returned function ends it, given the time spent working. */
    async enter(): Promise<(workedMs: number) => void> {
      if (!busy) return () => undefined;
      const previous = turn;
      let leave: () => void = () => undefined;
      turn = new Promise<void>((resolve) => {
        leave = resolve;
      });
      await previous;
      return (workedMs) => {
        setTimeout(leave, busy ? restFactor * workedMs : 0);
      };
    },
  };
}
