export { BlockList } from "./blocklist.js";
