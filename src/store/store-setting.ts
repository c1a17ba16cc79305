/** The forms of the `store` setting (kept apart from the drivers so config can check it cheaply). */
export const DEFAULT_SQLITE_PATH = 'data/resobridge.db';
export const STORE_SETTING = /^(memory|sqlite(:.+)?|postgres(ql)?:\/\/.+)$/;
