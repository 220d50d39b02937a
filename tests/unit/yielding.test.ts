import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ingestionGate, requestActivity } from "../../packages/local/src/yielding.ts";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("request activity (gateway side)", () => {
  it("is busy from the first request until none has been under way for the settle time", () => {
    const changes: boolean[] = [];
    const activity = requestActivity((busy) => changes.push(busy), 20);
    activity.started();
    activity.started();
    activity.finished();
    vi.advanceTimersByTime(100);
    expect(changes).toEqual([true]);
    activity.finished();
    vi.advanceTimersByTime(19);
    expect(changes).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([true, false]);
  });

  it("stays busy when a request arrives during the settle time", () => {
    const changes: boolean[] = [];
    const activity = requestActivity((busy) => changes.push(busy), 20);
    activity.started();
    activity.finished();
    vi.advanceTimersByTime(10);
    activity.started();
    vi.advanceTimersByTime(50);
    expect(changes).toEqual([true]);
  });
});

describe("ingestion gate (worker side)", () => {
  it("lets every poll through at once while the API is idle", async () => {
    const gate = ingestionGate(500);
    const start = Date.now();
    await gate.pass();
    await gate.pass();
    await gate.pass();
    expect(Date.now() - start).toBe(0);
  });

  it("lets one poll through per interval while the API is busy, and all as soon as it is idle", async () => {
    const gate = ingestionGate(500);
    await gate.pass();
    gate.setBusy(true);
    let passed = 0;
    for (let poller = 0; poller < 3; poller++) void gate.pass().then(() => passed++);
    await vi.advanceTimersByTimeAsync(499);
    expect(passed).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(passed).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(passed).toBe(2);
    gate.setBusy(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(passed).toBe(3);
  });

  it("gives way to a stopping poller", async () => {
    const gate = ingestionGate(500);
    await gate.pass();
    gate.setBusy(true);
    const stopping = new AbortController();
    const waiting = gate.pass(stopping.signal);
    stopping.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});
