// Page-side helpers the harness evaluates in live and replay pages (bundle global: __rcHarness).
export { canonicalDom } from "./canonical";
export { elementRects, maskedRects, settle, resume } from "./page";
export { sensitiveContent } from "./sensitive";
