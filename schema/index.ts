export * from "./accounts";
export * from "./logs";
export * from "./sessions";
export * from "./usage";
export * from "./billing";
