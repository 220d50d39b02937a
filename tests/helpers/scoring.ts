import { readFileSync } from "node:fs";
import { type LeadRepository, parseScoring, type ScoringModel } from "@leadflow/core";
import { memoryPublisher } from "./memory-repository.ts";

/** The temperature and stage thresholds small test configs end with. */
export const thresholdsYaml = `temperature:
  warm: { score: 30 }
  hot: { score: 70 }
stages:
  informationQualified: { bantAnswered: 1 }
  marketingQualified: { score: 60 }
`;

/** The shipped config/scoring.yaml. */
export const shippedScoring: ScoringModel = parseScoring(readFileSync("config/scoring.yaml", "utf8"));

/** A settable clock, as ISO strings. */
export function testClock(start = "2026-11-24T10:00:00.000Z") {
  let current = Date.parse(start);
  return {
    now: () => new Date(current).toISOString(),
    advanceDays(days: number) {
      current += days * 24 * 60 * 60 * 1000;
    },
    set(iso: string) {
      current = Date.parse(iso);
    },
  };
}

/** Scoring dependencies over a repository, with the shipped config unless told otherwise. */
export function scoringDependencies(
  repository: LeadRepository,
  options: { model?: ScoringModel; now?: () => string } = {},
) {
  const signals = memoryPublisher();
  return {
    dependencies: {
      repository,
      publisher: signals.publisher,
      model: options.model ?? shippedScoring,
      now: options.now ?? (() => "2026-11-24T10:00:00.000Z"),
    },
    published: signals.published,
  };
}
