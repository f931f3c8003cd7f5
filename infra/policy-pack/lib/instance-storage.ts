// One definition of the platform's instance-storage fact, shared with the components.
export { hasLocalInstanceStorage } from "../../limits";
