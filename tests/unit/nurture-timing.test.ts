import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  capDecision,
  channelWindows,
  inboundSmsKeyword,
  leadTimeZones,
  nextSendTime,
  planSend,
  type SendWindow,
  SendWindowSchema,
  searchHorizonDays,
  windowHolds,
} from "../../packages/core/src/nurture/timing.ts";

const minute = 60_000;
const day = 1_440 * minute;
const at = (iso: string) => new Date(iso);
const weekdays9to5: SendWindow = { days: [1, 2, 3, 4, 5], from: 9 * 60, to: 17 * 60 };
const newYork = ["America/New_York"];
const losAngeles = ["America/Los_Angeles"];

describe("a lead's time zones", () => {
  it("takes the lead's own zone first, then its phone's country, then its country, then the account's", () => {
    const lead = { timezone: "Asia/Tokyo", phone: "+442079460958", country: "FR" };
    expect(leadTimeZones(lead, "UTC")).toEqual({ zones: ["Asia/Tokyo"], from: "timezone" });
    expect(leadTimeZones({ ...lead, timezone: "Mars/Olympus" }, "UTC")).toEqual({
      zones: ["Europe/London"],
      from: "phone",
    });
    expect(leadTimeZones({ country: "FR" }, "UTC")).toEqual({ zones: ["Europe/Paris"], from: "country" });
    expect(leadTimeZones({ country: "Germany" }, "UTC").zones).toContain("Europe/Berlin");
    expect(leadTimeZones({ country: "Atlantis" }, "Europe/Madrid")).toEqual({
      zones: ["Europe/Madrid"],
      from: "account",
    });
    expect(() => leadTimeZones({}, "Mars/Olympus")).toThrow(RangeError);
  });

  it("gives a US phone number every US zone: a number tells its country, not its region", () => {
    const { zones, from } = leadTimeZones({ phone: "+12125550100" }, "UTC");
    expect(from).toBe("phone");
    expect(zones).toEqual(expect.arrayContaining(["America/New_York", "America/Los_Angeles", "Pacific/Honolulu"]));
    expect(leadTimeZones({ phone: "+14165550100" }, "UTC").zones).toContain("America/Toronto");
  });
});

describe("send windows", () => {
  // Tuesday 3 March 2026, 09:30 in New York (EST, UTC-5), 06:30 in Los Angeles.
  const nineThirtyEastern = at("2026-03-03T14:30:00Z");

  it("sends to a New York lead at 09:30 ET and holds a Los Angeles lead until 09:00 PT", () => {
    expect(windowHolds(weekdays9to5, newYork, nineThirtyEastern)).toBe(true);
    expect(windowHolds(weekdays9to5, losAngeles, nineThirtyEastern)).toBe(false);
    expect(
      planSend({ channel: "email", window: weekdays9to5, zones: newYork, sentAt: [], at: nineThirtyEastern }),
    ).toEqual({ send: true });
    expect(
      planSend({ channel: "email", window: weekdays9to5, zones: losAngeles, sentAt: [], at: nineThirtyEastern }),
    ).toEqual({ send: false, until: at("2026-03-03T17:00:00Z"), reason: "window" });
  });

  it("sends to a lead known only as American when 09:00-17:00 holds from Honolulu to New York", () => {
    const { zones } = leadTimeZones({ country: "US" }, "UTC");
    // 09:00 in Honolulu and Adak (UTC-10) is 14:00 in New York; 17:00 in New York ends it.
    expect(nextSendTime(weekdays9to5, zones, nineThirtyEastern)).toEqual(at("2026-03-03T19:00:00Z"));
    expect(windowHolds(weekdays9to5, zones, at("2026-03-03T21:59:00Z"))).toBe(true);
    expect(windowHolds(weekdays9to5, zones, at("2026-03-03T22:00:00Z"))).toBe(false);
  });

  it("follows London across the change to summer time and back", () => {
    const nineToTen: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], from: 9 * 60, to: 10 * 60 };
    const london = ["Europe/London"];
    // Clocks go forward at 01:00 UTC on Sunday 29 March 2026: 09:00 is 09:00Z on Saturday, 08:00Z on Sunday.
    expect(nextSendTime(nineToTen, london, at("2026-03-28T00:00:00Z"))).toEqual(at("2026-03-28T09:00:00Z"));
    expect(nextSendTime(nineToTen, london, at("2026-03-28T12:00:00Z"))).toEqual(at("2026-03-29T08:00:00Z"));
    // 01:00-02:00 does not exist that night: the next one is on Monday (00:00Z).
    const oneToTwo: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], from: 60, to: 120 };
    expect(nextSendTime(oneToTwo, london, at("2026-03-29T00:30:00Z"))).toEqual(at("2026-03-30T00:00:00Z"));
    // Clocks go back at 01:00 UTC on Sunday 25 October: 01:00-01:30 happens twice, and both count.
    const oneToHalfPast: SendWindow = { days: [7], from: 60, to: 90 };
    expect(nextSendTime(oneToHalfPast, london, at("2026-10-24T23:00:00Z"))).toEqual(at("2026-10-25T00:00:00Z"));
    expect(nextSendTime(oneToHalfPast, london, at("2026-10-25T00:45:00Z"))).toEqual(at("2026-10-25T01:00:00Z"));
    expect(windowHolds(oneToHalfPast, london, at("2026-10-25T01:29:00Z"))).toBe(true);
  });

  it("runs a window that ends before it starts past midnight", () => {
    const lateShift: SendWindow = { days: [5], from: 22 * 60, to: 2 * 60 };
    expect(windowHolds(lateShift, ["UTC"], at("2026-03-07T01:59:00Z"))).toBe(true); // Saturday, from Friday
    expect(windowHolds(lateShift, ["UTC"], at("2026-03-08T01:00:00Z"))).toBe(false); // Sunday
  });

  it("finds no time when the zones are 12 hours apart and the window shorter than 12 hours", () => {
    const apart = ["Etc/GMT+6", "Etc/GMT-6"];
    expect(nextSendTime(weekdays9to5, apart, nineThirtyEastern)).toBeUndefined();
    expect(
      planSend({ channel: "email", window: weekdays9to5, zones: apart, sentAt: [], at: nineThirtyEastern }),
    ).toEqual({
      send: false,
      until: new Date(nineThirtyEastern.getTime() + searchHorizonDays * day),
      reason: "no-common-window",
    });
  });

  it("checks windows in config", () => {
    expect(SendWindowSchema.safeParse(weekdays9to5).success).toBe(true);
    expect(SendWindowSchema.safeParse({ days: [8], from: 0, to: 60 }).success).toBe(false);
    expect(SendWindowSchema.safeParse({ days: [1], from: 60, to: 60 }).success).toBe(false);
  });
});

describe("SMS hours", () => {
  const paris = ["Europe/Paris"];
  const halfPastNine = at("2026-06-10T19:30:00Z"); // 21:30 in Paris (CEST)

  it("refuses an SMS at 21:30 in the lead's zone and sends it at 08:00, while an email goes", () => {
    expect(planSend({ channel: "sms", zones: paris, sentAt: [], at: halfPastNine })).toEqual({
      send: false,
      until: at("2026-06-11T06:00:00Z"),
      reason: "sms-hours",
    });
    expect(planSend({ channel: "email", zones: paris, sentAt: [], at: halfPastNine })).toEqual({ send: true });
  });

  it("adds SMS hours on top of the sequence's window", () => {
    const evenings: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], from: 20 * 60, to: 23 * 60 };
    expect(windowHolds(channelWindows("email", evenings), paris, halfPastNine)).toBe(true);
    expect(windowHolds(channelWindows("sms", evenings), paris, halfPastNine)).toBe(false);
    expect(nextSendTime(channelWindows("sms", evenings), paris, halfPastNine)).toEqual(at("2026-06-11T18:00:00Z"));
  });
});

describe("caps", () => {
  const zone = "America/Los_Angeles";

  it("counts a day in the lead's zone, not in UTC", () => {
    // 08:00 and 22:00 on Tuesday 3 March in Los Angeles: two UTC dates, one local day.
    const sentAt = ["2026-03-03T16:00:00Z", "2026-03-04T06:00:00Z"];
    const lateTuesday = at("2026-03-04T07:30:00Z");
    expect(capDecision({ sentAt, caps: { perDay: 2 }, zone, at: lateTuesday })).toEqual({
      allowed: false,
      retryAt: at("2026-03-04T08:00:00Z"),
    });
    expect(capDecision({ sentAt, caps: { perDay: 3 }, zone, at: lateTuesday })).toEqual({ allowed: true });
  });

  it("counts a rolling week: the cap frees when the oldest message is 7 days old", () => {
    const sentAt = ["2026-03-02T10:00:00Z", "2026-03-04T10:00:00Z", "2026-03-06T10:00:00Z"];
    expect(capDecision({ sentAt, caps: { perWeek: 3 }, zone, at: at("2026-03-08T12:00:00Z") })).toEqual({
      allowed: false,
      retryAt: at("2026-03-09T10:00:00Z"),
    });
    expect(capDecision({ sentAt, caps: { perWeek: 3 }, zone, at: at("2026-03-09T10:00:00Z") })).toEqual({
      allowed: true,
    });
  });

  it("defers past the cap into the window: a Friday's second message goes on Monday at 09:00", () => {
    // Friday 6 March 2026, 15:00 in Los Angeles; one message already sent that day.
    const plan = planSend({
      channel: "email",
      window: weekdays9to5,
      zones: [zone],
      sentAt: ["2026-03-06T18:00:00Z"],
      caps: { perDay: 1, perWeek: 5 },
      at: at("2026-03-06T23:00:00Z"),
    });
    expect(plan).toEqual({ send: false, until: at("2026-03-09T16:00:00Z"), reason: "cap" });
  });

  it("refuses caps that are not whole numbers of at least 1, and sent times that are not times", () => {
    expect(() => capDecision({ sentAt: [], caps: { perDay: 0 }, zone, at: new Date() })).toThrow(RangeError);
    expect(() => capDecision({ sentAt: ["yesterday"], caps: { perDay: 1 }, zone, at: new Date() })).toThrow(RangeError);
  });
});

describe("inbound SMS keywords", () => {
  it("reads the whole message as carriers do", () => {
    expect(inboundSmsKeyword(" Stop ")).toBe("stop");
    expect(inboundSmsKeyword("opt out")).toBe("stop");
    expect(inboundSmsKeyword("Opt-Out!")).toBe("stop");
    expect(inboundSmsKeyword("UNSTOP")).toBe("start");
    expect(inboundSmsKeyword("help?")).toBe("help");
    expect(inboundSmsKeyword("stop texting me")).toBeUndefined();
    expect(inboundSmsKeyword("Thanks, see you then")).toBeUndefined();
  });
});

const zonesToTry = [
  "UTC",
  "Europe/London",
  "America/New_York",
  "America/Los_Angeles",
  "Australia/Lord_Howe", // a half-hour DST change
  "Asia/Kolkata",
  "Pacific/Auckland",
  "America/Sao_Paulo",
];

const windowArbitrary: fc.Arbitrary<SendWindow> = fc
  .record({
    days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
    from: fc.integer({ min: 0, max: 1_439 }),
    to: fc.integer({ min: 1, max: 1_440 }),
  })
  .filter(({ from, to }) => from !== to);

/** Whole minutes from 2025 to 2027, biased towards the DST changes of March and October. */
const instantArbitrary = fc
  .oneof(
    fc.integer({ min: Date.UTC(2025, 0, 1) / minute, max: Date.UTC(2027, 11, 31) / minute }),
    fc.integer({ min: Date.UTC(2026, 2, 20) / minute, max: Date.UTC(2026, 3, 10) / minute }),
    fc.integer({ min: Date.UTC(2026, 8, 20) / minute, max: Date.UTC(2026, 9, 31) / minute }),
  )
  .map((minutes) => new Date(minutes * minute));

describe("properties", () => {
  it("nextSendTime returns a time the window holds in every zone, and no earlier minute holds it", () => {
    fc.assert(
      fc.property(
        windowArbitrary,
        fc.uniqueArray(fc.constantFrom(...zonesToTry), { minLength: 1, maxLength: 2 }),
        instantArbitrary,
        (window, zones, start) => {
          const found = nextSendTime(window, zones, start);
          const until = found?.getTime() ?? start.getTime() + searchHorizonDays * day;
          if (found) expect(windowHolds(window, zones, found)).toBe(true);
          for (let instant = start.getTime(); instant < until; instant += minute) {
            if (windowHolds(window, zones, new Date(instant))) {
              throw new Error(`holds earlier, at ${new Date(instant).toISOString()}`);
            }
          }
          // One zone always has a time within two weeks.
          if (zones.length === 1) expect(found).toBeDefined();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("planSend never drops a message: it sends now, or at a time the caps allow and the windows hold", () => {
    fc.assert(
      fc.property(
        windowArbitrary,
        fc.constantFrom(...zonesToTry),
        fc.constantFrom("email" as const, "sms" as const),
        instantArbitrary,
        fc.array(fc.integer({ min: 1, max: 8 * 1_440 }), { maxLength: 10 }),
        fc.record(
          { perDay: fc.integer({ min: 1, max: 3 }), perWeek: fc.integer({ min: 1, max: 8 }) },
          {
            requiredKeys: [],
          },
        ),
        (window, zone, channel, now, minutesAgo, caps) => {
          const sentAt = minutesAgo.map((ago) => new Date(now.getTime() - ago * minute).toISOString());
          const plan = planSend({ channel, window, zones: [zone], sentAt, caps, at: now });
          const windows = channelWindows(channel, window);
          if (plan.send) {
            expect(windowHolds(windows, [zone], now)).toBe(true);
            expect(capDecision({ sentAt, caps, zone, at: now })).toEqual({ allowed: true });
            return;
          }
          // One zone and a window of at least a minute always meet SMS hours within two weeks? Not
          // when the window lies wholly in the quiet hours: then the plan says so and looks again.
          if (plan.reason === "no-common-window") {
            expect(channel).toBe("sms");
            expect(nextSendTime(windows, [zone], now)).toBeUndefined();
            return;
          }
          expect(plan.until.getTime()).toBeGreaterThan(now.getTime());
          expect(windowHolds(windows, [zone], plan.until)).toBe(true);
          expect(capDecision({ sentAt, caps, zone, at: plan.until })).toEqual({ allowed: true });
        },
      ),
      { numRuns: 150 },
    );
  });

  const stopWords = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT"];
  const keywordArbitrary = fc.oneof(
    fc.constantFrom(...stopWords).map((word) => [word, "stop"] as const),
    fc.constantFrom("START", "UNSTOP").map((word) => [word, "start"] as const),
    fc.constant(["HELP", "help"] as const),
  );
  const randomCase = (word: string, flips: boolean[]) =>
    [...word].map((letter, index) => (flips[index % flips.length] ? letter.toLowerCase() : letter)).join("");

  it("reads a keyword whatever its case, surrounding spaces and final punctuation", () => {
    fc.assert(
      fc.property(
        keywordArbitrary,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        fc.constantFrom("", " ", "  \t", "\n"),
        fc.constantFrom("", ".", "!", "!!", "?"),
        ([word, meaning], flips, space, punctuation) => {
          expect(inboundSmsKeyword(`${space}${randomCase(word, flips)}${punctuation}${space}`)).toBe(meaning);
        },
      ),
    );
  });

  it("reads no keyword in a message that says more than the keyword", () => {
    fc.assert(
      fc.property(
        keywordArbitrary,
        fc.stringMatching(/^[a-z]{2,10}$/).filter((word) => word !== "out" && word !== "all"),
        fc.boolean(),
        ([word], other, before) => {
          expect(inboundSmsKeyword(before ? `${other} ${word}` : `${word} ${other}`)).toBeUndefined();
        },
      ),
    );
  });
});
