// What the portable runner prints (tests/portable/suite.ts) and tests/portable_test.ts reads.

/** Marks the runner's result lines on stdout: `@portable <JSON>`. */
export const RESULT_PREFIX = "@portable ";

/** One test's result. */
export interface TestResult {
  readonly name: string;
  /** True for a pass and for a skip. */
  readonly ok: boolean;
  readonly ms: number;
  /** The failure: message and stack. */
  readonly error?: string;
  /** Why the test did not run. */
  readonly skipped?: string;
}

/** The runner's last line. */
export interface Summary {
  readonly summary: {
    readonly passed: number;
    readonly failed: number;
    readonly skipped: number;
    readonly ms: number;
  };
}
