/** The agent's V8 options; see runtime-profile.mjs for why each. */
export declare const RUNTIME_V8_OPTIONS: readonly string[]
