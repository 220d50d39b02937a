export * from "./enrolment.ts";
export * from "./runner.ts";
export * from "./sequence.ts";
export * from "./templates.ts";
export * from "./timing.ts";
export * from "./unsubscribe.ts";
