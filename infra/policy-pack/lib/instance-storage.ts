// The platform's one instance-storage rule (contract package), shared with the components and the
// tools. The pack resolves it like any dependency: the workspace link in the root node_modules.
export { hasLocalInstanceStorage } from "@ml-platform/contract";
