export * from "./accounts";
export * from "./logs";
