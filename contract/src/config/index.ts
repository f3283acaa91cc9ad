export * from "./problems.ts";
export * from "./option.ts";
export * from "./duration.ts";
export * from "./secret-file.ts";
export * from "./load-options.ts";
export * from "./help-text.ts";
export * from "./options-markdown.ts";
export * from "./mqtt-client-options.ts";
export * from "./mqtt-service-options.ts";
export { flagOf, fileKeyOf, envsOf } from "./option-names.ts";
export * from "./schemas.ts";
// The one schema language, from the kit, so a program needs no TypeBox of its own to declare options.
export { Type } from "@sinclair/typebox";
