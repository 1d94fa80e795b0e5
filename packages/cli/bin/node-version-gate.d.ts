// Types for the plain-JavaScript Node version gate (kept JavaScript so any Node can parse it).
export declare const NODE_MAJOR_MIN: number
export declare const NODE_TOO_OLD_EXIT_STATUS: number
export declare function nodeTooOldMessage (version: string): string | undefined
