export * from "./inbound/index.ts";
