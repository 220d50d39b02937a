/**
 * On one machine the API and the queue workers share the CPU; the acknowledgement is what
 * platforms see, so the workers yield to it. The gateway reports when it is answering requests,
 * and while it is, the worker runs one batch at a time and rests between batches: ingestion slows
 * down under load but never stops.
 */

/** Gateway side: signals busy on the first request, idle once none has been under way for `settleMs`. */
export function requestActivity(onChange: (busy: boolean) => void, settleMs = 20) {
  let inFlight = 0;
  let busy = false;
  let settling: NodeJS.Timeout | undefined;
  return {
    started(): void {
      inFlight++;
      clearTimeout(settling);
      if (!busy) {
        busy = true;
        onChange(true);
      }
    },
    finished(): void {
      if (--inFlight > 0) return;
      settling = setTimeout(() => {
        busy = false;
        onChange(false);
      }, settleMs);
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
