/** The target check lives in the core (src/evaluate/target-check.ts); re-exported for the UI. */
export { isBlocking, TARGET_LABELS, targetCheck, targetIssues, type McuEstimate, type Target, type TargetCheck, type TargetIssue } from '../evaluate/target-check';
