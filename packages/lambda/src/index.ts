/** The time handlers go by (moved by `POST /_local/clock` under `npm start`). */
export { clock } from "@leadflow/core";
export * from "./clients.ts";
export * from "./composition.ts";
export * from "./http.ts";
export * from "./logger.ts";
export * from "./nurture.ts";
export * from "./once.ts";
export * from "./outbound.ts";
export * from "./settings.ts";
export * from "./sns.ts";
export * from "./speed-to-lead.ts";
export * from "./sqs.ts";
export * from "./workflow.ts";
