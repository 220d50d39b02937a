import { ConfigError, type ConfigIssue, parseScoring } from "@leadflow/core";
import { describe, expect, it } from "vitest";
import { shippedScoring, thresholdsYaml } from "../helpers/scoring.ts";

const engagement = "engagement:\n  halfLifeDays: 14\n";

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseScoring(text, "scoring.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected the config to be rejected");
}

describe("config/scoring.yaml", () => {
  it("the shipped file compiles every rule, group, BANT question and custom event", () => {
    expect(shippedScoring.fit.map(({ id }) => id)).toEqual([
      "business-email",
      "free-email",
      "senior-title",
      "manager-title",
      "company-size",
      "target-country",
    ]);
    expect(shippedScoring.engagementRules.size).toBe(10);
    expect(shippedScoring.rulesByEvent.get("page_view")?.map(({ id }) => id)).toEqual(["pricing-page", "page-view"]);
    expect([...shippedScoring.groupCaps]).toEqual([
      ["web", 35],
      ["email", 15],
    ]);
    expect(shippedScoring.bant.map(({ key }) => key)).toEqual(["budget", "authority", "need", "timeline"]);
    expect(shippedScoring.eventTypes.has("trial_started")).toBe(true);
    expect(shippedScoring.config.bant.freshForDays).toBe(30);
    expect(shippedScoring.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it("names a config by a digest of its text", () => {
    const text = `${engagement}${thresholdsYaml}`;
    expect(parseScoring(text).version).toBe(parseScoring(text).version);
    expect(parseScoring(`${text}# edited\n`).version).not.toBe(parseScoring(text).version);
  });

  it("fills in defaults for what may be left out", () => {
    const { config } = parseScoring(`${engagement}${thresholdsYaml}`);
    expect(config).toMatchObject({
      fit: [],
      engagement: { halfLifeDays: 14, groups: {}, rules: [] },
      customEvents: [],
      emailDomains: { free: [] },
      bant: { freshForDays: 30 },
    });
  });

  it("accepts a custom event type once it is listed in customEvents", () => {
    const model = parseScoring(
      `engagement:\n  halfLifeDays: 14\n  rules:\n    - { id: podcast, event: podcast_listen, points: 3 }\ncustomEvents: [podcast_listen]\n${thresholdsYaml}`,
    );
    expect(model.rulesByEvent.get("podcast_listen")?.map(({ id }) => id)).toEqual(["podcast"]);
  });
});

describe("scoring config errors", () => {
  it("reports malformed YAML with its position", () => {
    expect(issuesOf("fit:\n  - id: a\n    field: [jobTitle\n")).toEqual([
      {
        file: "scoring.yaml",
        line: 4,
        column: 1,
        path: "",
        message: "Flow sequence in block collection must be sufficiently indented and end with a ]",
      },
    ]);
  });

  it("formats each issue as file:line:column path: message", () => {
    const text = `fit:\n  - { id: a, field: shoeSize, exists: true, points: 1 }\n${engagement}${thresholdsYaml}`;
    expect(() => parseScoring(text, "scoring.yaml")).toThrow(
      "scoring.yaml:2:21 fit.0.field: a lead field (e.g. jobTitle, emailType, source) or custom.<name>",
    );
  });

  it("points at an unknown operator and at the rule left without one", () => {
    expect(
      issuesOf(
        `fit:\n  - id: title\n    field: jobTitle\n    equal: cto\n    points: 5\n${engagement}${thresholdsYaml}`,
      ),
    ).toEqual([
      { file: "scoring.yaml", line: 4, column: 5, path: "fit.0", message: 'Unrecognized key: "equal"' },
      {
        file: "scoring.yaml",
        line: 2,
        column: 5,
        path: "fit.0",
        message: "give one test: equals, in, contains, range, matches, exists",
      },
    ]);
  });

  it("points at the second operator of a rule that has two", () => {
    expect(
      issuesOf(
        `fit:\n  - id: title\n    field: jobTitle\n    equals: cto\n    contains: chief\n    points: 5\n${engagement}${thresholdsYaml}`,
      ),
    ).toEqual([
      {
        file: "scoring.yaml",
        line: 5,
        column: 15,
        path: "fit.0.contains",
        message: "give one test only, not equals and contains",
      },
    ]);
  });

  it("points at an invalid regular expression", () => {
    expect(
      issuesOf(
        `fit:\n  - id: title\n    field: jobTitle\n    matches: "(chief"\n    points: 5\n${engagement}${thresholdsYaml}`,
      ),
    ).toEqual([
      expect.objectContaining({
        line: 4,
        column: 14,
        path: "fit.0.matches",
        message: expect.stringContaining("not a valid regular expression"),
      }),
    ]);
  });

  it("points at a range with min above max", () => {
    expect(
      issuesOf(
        `fit:\n  - id: size\n    field: custom.company_size\n    range: { min: 500, max: 50 }\n    points: 5\n${engagement}${thresholdsYaml}`,
      ),
    ).toEqual([
      expect.objectContaining({ line: 4, column: 12, path: "fit.0.range", message: "min must not exceed max" }),
    ]);
  });

  it("points at an engagement rule's unknown event type", () => {
    expect(
      issuesOf(
        `engagement:\n  halfLifeDays: 14\n  rules:\n    - id: podcast\n      event: podcast_listen\n      points: 3\n${thresholdsYaml}`,
      ),
    ).toEqual([
      {
        file: "scoring.yaml",
        line: 5,
        column: 14,
        path: "engagement.rules.0.event",
        message: 'unknown event type "podcast_listen": use a built-in one or list it in customEvents',
      },
    ]);
  });

  it("points at a group that engagement.groups does not declare", () => {
    expect(
      issuesOf(
        `engagement:\n  halfLifeDays: 14\n  groups:\n    web: { cap: 40 }\n  rules:\n    - id: opens\n      event: email_open\n      points: 1\n      group: email\n${thresholdsYaml}`,
      ),
    ).toEqual([
      {
        file: "scoring.yaml",
        line: 9,
        column: 14,
        path: "engagement.rules.0.group",
        message: 'no group "email" in engagement.groups',
      },
    ]);
  });

  it("points at the second use of a rule id, across fit and engagement", () => {
    expect(
      issuesOf(
        `fit:\n  - { id: demo, field: jobTitle, exists: true, points: 1 }\nengagement:\n  halfLifeDays: 14\n  rules:\n    - id: demo\n      event: demo_request\n      points: 40\n${thresholdsYaml}`,
      ),
    ).toEqual([
      {
        file: "scoring.yaml",
        line: 6,
        column: 11,
        path: "engagement.rules.0.id",
        message: 'rule id "demo" is used twice',
      },
    ]);
  });

  it("points at an unknown key itself, not at its value on the next line", () => {
    expect(issuesOf(`${engagement}${thresholdsYaml}emailDomain:\n  free: [mail.example]\n`)).toEqual([
      { file: "scoring.yaml", line: 9, column: 1, path: "", message: 'Unrecognized key: "emailDomain"' },
    ]);
  });

  it("points at the rule that misses a required key", () => {
    expect(
      issuesOf(`fit:\n  - id: title\n    field: jobTitle\n    exists: true\n${engagement}${thresholdsYaml}`),
    ).toEqual([expect.objectContaining({ line: 2, column: 5, path: "fit.0.points" })]);
  });

  it("requires hot.score to exceed warm.score", () => {
    const text = `${engagement}temperature:\n  warm: { score: 50 }\n  hot: { score: 50 }\nstages:\n  informationQualified: { bantAnswered: 1 }\n  marketingQualified: { score: 60 }\n`;
    expect(issuesOf(text)).toEqual([
      {
        file: "scoring.yaml",
        line: 5,
        column: 17,
        path: "temperature.hot.score",
        message: "must be above warm.score",
      },
    ]);
  });

  it("refuses a hot BANT count below the warm one", () => {
    const text = `${engagement}temperature:\n  warm: { score: 30, bant: 3 }\n  hot: { score: 70, bant: 2 }\nstages:\n  informationQualified: { bantAnswered: 1 }\n  marketingQualified: { score: 60 }\n`;
    expect(issuesOf(text)).toEqual([expect.objectContaining({ line: 5, column: 27, path: "temperature.hot.bant" })]);
  });
});
