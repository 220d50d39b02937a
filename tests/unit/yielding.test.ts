import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ingestionGate, requestActivity } from "../../packages/local/src/yielding.ts";

beforeEach(() =>
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"] }),
);
afterEach(() => vi.useRealTimers());

/** Requests of `durationMs` each, one every `everyMs`, for `forMs`. */
function requests(activity: ReturnType<typeof requestActivity>, durationMs: number, everyMs: number, forMs: number) {
  for (let elapsed = 0; elapsed < forMs; elapsed += everyMs) {
    activity.started();
    vi.advanceTimersByTime(durationMs);
    activity.finished();
    vi.advanceTimersByTime(everyMs - durationMs);
  }
}

describe("request activity (gateway side)", () => {
  it("leaves the workers alone under a trickle of requests", () => {
    const changes: boolean[] = [];
    const activity = requestActivity((busy) => changes.push(busy));
    requests(activity, 5, 20, 2_000); // 50 requests a second, each 5 ms: a quarter of the time
    expect(changes).toEqual([]);
  });

  it("is busy within a window once requests occupy most of it, and idle a window after they stop", () => {
    const changes: boolean[] = [];
    const activity = requestActivity((busy) => changes.push(busy));
    requests(activity, 4, 5, 100);
    expect(changes).toEqual([true]);
    requests(activity, 4, 5, 1_000);
    expect(changes).toEqual([true]);
    vi.advanceTimersByTime(100);
    expect(changes).toEqual([true, false]);
  });

  it("counts overlapping requests once, and a request still under way as occupying", () => {
    const changes: boolean[] = [];
    const activity = requestActivity((busy) => changes.push(busy), { windowMs: 100, busyShare: 0.5 });
    activity.started();
    activity.started();
    vi.advanceTimersByTime(30);
    activity.finished();
    activity.finished();
    vi.advanceTimersByTime(70);
    expect(changes).toEqual([]);
    activity.started();
    vi.advanceTimersByTime(100);
    expect(changes).toEqual([true]);
    activity.finished();
    vi.advanceTimersByTime(200);
    expect(changes).toEqual([true, false]);
  });
});

describe("ingestion gate (worker side)", () => {
  it("lets every batch run at once while the API is idle", async () => {
    const gate = ingestionGate();
    const leaves = await Promise.all([gate.enter(), gate.enter(), gate.enter()]);
    expect(leaves).toHaveLength(3);
  });

  it("runs one batch at a time while the API is busy, each followed by a rest twice as long as its work", async () => {
    const gate = ingestionGate();
    gate.setBusy(true);
    const started: number[] = [];
    const batch = async (index: number) => {
      const leave = await gate.enter();
      started.push(index);
      await new Promise((resolve) => setTimeout(resolve, 100));
      leave(100);
    };
    const batches = [batch(0), batch(1), batch(2)];
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0]);
    await vi.advanceTimersByTimeAsync(299);
    expect(started).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual([0, 1]);
    gate.setBusy(false);
    await vi.advanceTimersByTimeAsync(101);
    expect(started).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all(batches);
  });

  it("doesn't rest after a turn that found nothing to do", async () => {
    const gate = ingestionGate();
    gate.setBusy(true);
    (await gate.enter())(0);
    const next = gate.enter();
    await vi.advanceTimersByTimeAsync(0);
    await expect(next).resolves.toBeTypeOf("function");
  });

  it("never stops ingestion under sustained load", async () => {
    const gate = ingestionGate();
    gate.setBusy(true);
    let done = 0;
    const work = async () => {
      for (;;) {
        const leave = await gate.enter();
        await new Promise((resolve) => setTimeout(resolve, 50));
        done++;
        leave(50);
        if (done >= 10) return;
      }
    };
    const pollers = [work(), work(), work(), work()];
    await vi.advanceTimersByTimeAsync(10 * 150);
    expect(done).toBeGreaterThanOrEqual(10);
    gate.setBusy(false);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(pollers);
  });
});
