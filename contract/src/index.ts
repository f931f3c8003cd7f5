// What the platform's packages agree on. Each module is named for what it holds; see README.md.
export * from "./features";
export * from "./layout";
export * from "./limits";
export * from "./outputs";
export * from "./patterns";
export * from "./settings";
