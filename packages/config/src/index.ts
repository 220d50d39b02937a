export * from "./entry.ts";
export * from "./read.ts";
export * from "./registry.ts";
export * from "./schemas.ts";
