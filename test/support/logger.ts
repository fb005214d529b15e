import { createLogger, type Logger } from '../../src/util/logger.ts';

/** The logger tests hand to the code under test: silent unless DW_LOG_LEVEL asks for output. */
export const quietLogger: Logger = createLogger(process.env.DW_LOG_LEVEL ?? 'silent');
