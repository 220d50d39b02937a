export * from "./clients.ts";
export * from "./composition.ts";
export * from "./http.ts";
export * from "./logger.ts";
export * from "./once.ts";
export * from "./outbound.ts";
export * from "./settings.ts";
export * from "./sqs.ts";
