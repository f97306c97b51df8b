export * from "./accounts";
export * from "./logs";
export * from "./command-log";
export * from "./hosts";
export * from "./sessions";
export * from "./workspaces";
export * from "./usage";
export * from "./billing";
