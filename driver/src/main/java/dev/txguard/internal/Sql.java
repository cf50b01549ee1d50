package dev.txguard.internal;

/**
 * Classifies SQL text by what it does to the transaction, without allocating: a prepared statement
 * is classified once when it is prepared, a plain {@code Statement} on every execute.
 *
 * <p>Only the leading keywords of each statement matter, but the whole string is scanned so that
 * a second statement hidden behind a {@code ;} is seen. Comments, string literals, quoted
 * identifiers and PostgreSQL dollar quotes are skipped, so a {@code COMMIT} inside them is not
 * one (MySQL's and MariaDB's executable comments are code, and read as such). A procedural block
 * ({@code BEGIN ... END;}, {@code BEGIN NOT ATOMIC}, Oracle's {@code DECLARE}, {@code CREATE FUNCTION ...})
 * is one statement however many {@code ;} it holds; PostgreSQL's cursor {@code DECLARE} and a
 * {@code DECLARE ... TEMPORARY TABLE} are plain statements.
 */
final class Sql {

    /** Anything that does not touch the transaction. */
    static final int OTHER = 0;
    /** BEGIN, BEGIN WORK|TRANSACTION, START TRANSACTION. */
    static final int BEGIN = 1;
    /** A begin that also sets characteristics (isolation level, read only, ...). */
    static final int BEGIN_WITH_MODES = 2;
    static final int COMMIT = 3;
    static final int ROLLBACK = 4;
    static final int AUTOCOMMIT_ON = 5;
    static final int AUTOCOMMIT_OFF = 6;
    /** DDL and its kin (on H2, most SET statements too): commits the transaction implicitly on some databases. */
    static final int IMPLICIT_COMMIT = 7;
    /** COMMIT/ROLLBACK AND CHAIN or RELEASE, or a SET AUTOCOMMIT txguard cannot read. */
    static final int UNSUPPORTED_CONTROL = 8;
    /** More than one statement, and at least one of them controls the transaction. */
    static final int MULTI_WITH_CONTROL = 9;
    /** SET [CURRENT] ISOLATION (Derby, where it commits). */
    static final int ISOLATION_CHANGE = 10;

    private Sql() {}

    static boolean controlsTransaction(int kind) {
        return kind != OTHER && kind != IMPLICIT_COMMIT && kind != ISOLATION_CHANGE;
    }

    static String describe(int kind) {
        switch (kind) {
            case BEGIN: return "BEGIN";
            case BEGIN_WITH_MODES: return "BEGIN with transaction characteristics";
            case COMMIT: return "COMMIT";
            case ROLLBACK: return "ROLLBACK";
            case AUTOCOMMIT_ON: return "SET AUTOCOMMIT on";
            case AUTOCOMMIT_OFF: return "SET AUTOCOMMIT off";
            case IMPLICIT_COMMIT: return "a statement that commits implicitly";
            case UNSUPPORTED_CONTROL: return "transaction control txguard does not translate";
            case MULTI_WITH_CONTROL: return "several statements including transaction control";
            case ISOLATION_CHANGE: return "a change of isolation level";
            default: return "statement";
        }
    }

    static int classify(String sql, Dialect dialect) {
        if (sql == null) return OTHER;
        int n = sql.length();
        int pos = 0;
        int result = OTHER;
        int statements = 0;
        boolean anyControl = false;
        boolean anyImplicitCommit = false;
        while (pos < n) {
            int start = skipSpaceAndComments(sql, pos, dialect);
            if (start >= n) break;
            if (sql.charAt(start) == ';') {
                pos = start + 1;
                continue;
            }
            int kind = classifyOne(sql, start, dialect);
            statements++;
            // No ';' further on: nothing can follow this statement (the common case, decided by an intrinsic scan).
            if (statements == 1 && sql.indexOf(';', start) < 0) return kind;
            if (statements == 1) result = kind;
            anyControl |= controlsTransaction(kind);
            anyImplicitCommit |= kind == IMPLICIT_COMMIT;
            if (startsBlock(sql, start, dialect)) break; // its inner ';' do not separate statements
            pos = endOfStatement(sql, start, dialect);
        }
        if (statements <= 1) return result;
        if (anyControl) return MULTI_WITH_CONTROL;
        return anyImplicitCommit ? IMPLICIT_COMMIT : OTHER;
    }

    /** Offset just past the transaction keywords of a BEGIN_WITH_MODES statement, where its modes start. */
    static int modesOffset(String sql, Dialect dialect) {
        int p = skipSpaceAndComments(sql, 0, dialect);
        if (word(sql, p, "START")) {
            p = skipSpaceAndComments(sql, p + 5, dialect);
            return skipSpaceAndComments(sql, p + "TRANSACTION".length(), dialect);
        }
        p = skipSpaceAndComments(sql, p + 5, dialect);
        if (word(sql, p, "WORK")) return skipSpaceAndComments(sql, p + 4, dialect);
        if (word(sql, p, "TRANSACTION")) return skipSpaceAndComments(sql, p + 11, dialect);
        return p;
    }

    private static int classifyOne(String sql, int p, Dialect dialect) {
        // Dispatched on the first letter, so that the statements that run most (SELECT, INSERT, UPDATE,
        // DELETE) are told apart from the few keywords that matter after one or two comparisons.
        switch (Character.toUpperCase(sql.charAt(p))) {
            case 'B':
                return word(sql, p, "BEGIN") ? classifyBegin(sql, next(sql, p, 5, dialect), dialect) : OTHER;
            case 'S':
                if (word(sql, p, "START")) {
                    int q = next(sql, p, 5, dialect);
                    if (!word(sql, q, "TRANSACTION")) return OTHER;
                    q = next(sql, q, 11, dialect);
                    return atEnd(sql, q) ? BEGIN : BEGIN_WITH_MODES;
                }
                if (word(sql, p, "SET")) return classifySet(sql, next(sql, p, 3, dialect), dialect);
                return word(sql, p, "SCRIPT") && dialect.nonTransactionalCommandsCommit ? IMPLICIT_COMMIT : OTHER;
            case 'C':
                if (word(sql, p, "COMMIT")) return classifyEnd(sql, next(sql, p, 6, dialect), dialect, COMMIT);
                if (word(sql, p, "CREATE")) {
                    int q = next(sql, p, 6, dialect);
                    if (!dialect.sequenceDdlCommits && word(sql, q, "SEQUENCE")) return OTHER;
                    if (dialect.temporaryTablesCommit) return IMPLICIT_COMMIT;
                    if (word(sql, q, "TEMPORARY")) return OTHER;
                    return IMPLICIT_COMMIT;
                }
                if (word(sql, p, "CHECK")) return word(sql, next(sql, p, 5, dialect), "TABLE") ? IMPLICIT_COMMIT : OTHER;
                return word(sql, p, "COMMENT") ? IMPLICIT_COMMIT : OTHER;
            case 'E':
                return word(sql, p, "END") && dialect.endIsCommit
                        ? classifyEnd(sql, next(sql, p, 3, dialect), dialect, COMMIT) : OTHER;
            case 'R':
                if (word(sql, p, "ROLLBACK")) return classifyEnd(sql, next(sql, p, 8, dialect), dialect, ROLLBACK);
                if (word(sql, p, "RUNSCRIPT")) return dialect.nonTransactionalCommandsCommit ? IMPLICIT_COMMIT : OTHER;
                return word(sql, p, "RENAME") || word(sql, p, "REVOKE") || word(sql, p, "REPAIR") || word(sql, p, "RESET")
                        ? IMPLICIT_COMMIT : OTHER;
            case 'A':
                if (word(sql, p, "ABORT") && dialect.abortIsRollback) {
                    return classifyEnd(sql, next(sql, p, 5, dialect), dialect, ROLLBACK);
                }
                if (word(sql, p, "ALTER")) {
                    return !dialect.sequenceDdlCommits && word(sql, next(sql, p, 5, dialect), "SEQUENCE")
                            ? OTHER : IMPLICIT_COMMIT;
                }
                return word(sql, p, "ANALYZE") ? IMPLICIT_COMMIT : OTHER;
            case 'D':
                if (word(sql, p, "DROP")) {
                    int q = next(sql, p, 4, dialect);
                    if (!dialect.temporaryTablesCommit && word(sql, q, "TEMPORARY")) return OTHER;
                    return IMPLICIT_COMMIT;
                }
                if (declaresTemporaryTable(sql, p, dialect)) return dialect.temporaryTablesCommit ? IMPLICIT_COMMIT : OTHER;
                return OTHER;
            case 'T':
                return word(sql, p, "TRUNCATE") ? IMPLICIT_COMMIT : OTHER;
            case 'G':
                return word(sql, p, "GRANT") ? IMPLICIT_COMMIT : OTHER;
            case 'L':
                return word(sql, p, "LOCK") ? IMPLICIT_COMMIT : OTHER;
            case 'U':
                return word(sql, p, "UNLOCK") || word(sql, p, "UNINSTALL") ? IMPLICIT_COMMIT : OTHER;
            case 'I':
                return word(sql, p, "INSTALL") ? IMPLICIT_COMMIT : OTHER;
            case 'O':
                return word(sql, p, "OPTIMIZE") ? IMPLICIT_COMMIT : OTHER;
            case 'F':
                return word(sql, p, "FLUSH") ? IMPLICIT_COMMIT : OTHER;
            default:
                return OTHER;
        }
    }

    private static int classifyBegin(String sql, int q, Dialect dialect) {
        if (atEnd(sql, q)) return BEGIN;
        if (word(sql, q, "WORK") || word(sql, q, "TRANSACTION")) {
            int r = next(sql, q, word(sql, q, "WORK") ? 4 : 11, dialect);
            return atEnd(sql, r) ? BEGIN : BEGIN_WITH_MODES;
        }
        if (word(sql, q, "ISOLATION") || word(sql, q, "READ") || word(sql, q, "DEFERRABLE")
                || word(sql, q, "DEFERRED") || word(sql, q, "IMMEDIATE") || word(sql, q, "EXCLUSIVE")) {
            return BEGIN_WITH_MODES; // PostgreSQL's modes; SQLite's locking modes
        }
        if (word(sql, q, "NOT") && word(sql, next(sql, q, 3, dialect), "DEFERRABLE")) return BEGIN_WITH_MODES;
        return OTHER; // a procedural block: BEGIN ... END, BEGIN NOT ATOMIC ...
    }

    private static int classifyEnd(String sql, int q, Dialect dialect, int plain) {
        if (word(sql, q, "WORK")) q = next(sql, q, 4, dialect);
        else if (word(sql, q, "TRANSACTION")) q = next(sql, q, 11, dialect);
        if (atEnd(sql, q)) return plain;
        if (word(sql, q, "PREPARED")) return OTHER; // two-phase commit of a named transaction
        if (plain == ROLLBACK && word(sql, q, "TO")) return OTHER; // to an application savepoint
        if (word(sql, q, "AND")) {
            int r = next(sql, q, 3, dialect);
            if (word(sql, r, "NO") && word(sql, next(sql, r, 2, dialect), "CHAIN")
                    && atEnd(sql, next(sql, next(sql, r, 2, dialect), 5, dialect))) {
                return plain;
            }
        }
        return UNSUPPORTED_CONTROL;
    }

    /**
     * H2's SET statements that only change the session, and so run inside the transaction (H2 2.3's
     * transactional settings, and two it accepts and ignores); every other SET commits it.
     */
    private static final String[] H2_SESSION_SETTINGS = {
        "SCHEMA", "CATALOG", "SCHEMA_SEARCH_PATH", "TIME", "NON_KEYWORDS", "LOCK_TIMEOUT", "QUERY_TIMEOUT",
        "TRACE_LEVEL_SYSTEM_OUT", "TRACE_LEVEL_FILE", "CLUSTER", "WRITE_DELAY", "THROTTLE", "RETENTION_TIME",
        "LAZY_QUERY_EXECUTION", "VARIABLE_BINARY", "TRUNCATE_LARGE_LENGTH", "BINARY_COLLATION", "UUID_COLLATION",
    };

    private static int classifySet(String sql, int q, Dialect dialect) {
        if (dialect.nonTransactionalCommandsCommit && !word(sql, q, "AUTOCOMMIT") && !isSessionSetting(sql, q)) {
            return IMPLICIT_COMMIT;
        }
        if (word(sql, q, "PASSWORD")) return IMPLICIT_COMMIT; // MySQL, MariaDB
        if (word(sql, q, "CURRENT")) {
            int r = next(sql, q, 7, dialect);
            if (word(sql, r, "ISOLATION")) return ISOLATION_CHANGE;
        }
        if (word(sql, q, "ISOLATION")) return ISOLATION_CHANGE; // Derby, DB2, Informix
        if (word(sql, q, "SESSION") || word(sql, q, "LOCAL")) q = next(sql, q, word(sql, q, "LOCAL") ? 5 : 7, dialect);
        if (q < sql.length() && sql.startsWith("@@", q)) {
            q += 2;
            if (word(sql, q, "SESSION") && q + 7 < sql.length() && sql.charAt(q + 7) == '.') q += 8;
            else if (word(sql, q, "LOCAL") && q + 5 < sql.length() && sql.charAt(q + 5) == '.') q += 6;
        }
        if (!word(sql, q, "AUTOCOMMIT")) return OTHER;
        q = skipSpaceAndComments(sql, q + 10, dialect);
        if (q < sql.length() && sql.charAt(q) == '=') q = skipSpaceAndComments(sql, q + 1, dialect);
        else if (word(sql, q, "TO")) q = next(sql, q, 2, dialect);
        int value;
        int length;
        if (word(sql, q, "ON") || word(sql, q, "TRUE") || word(sql, q, "1")) {
            value = AUTOCOMMIT_ON;
            length = word(sql, q, "ON") ? 2 : word(sql, q, "TRUE") ? 4 : 1;
        } else if (word(sql, q, "OFF") || word(sql, q, "FALSE") || word(sql, q, "0")) {
            value = AUTOCOMMIT_OFF;
            length = word(sql, q, "OFF") ? 3 : word(sql, q, "FALSE") ? 5 : 1;
        } else {
            return UNSUPPORTED_CONTROL;
        }
        return atEnd(sql, next(sql, q, length, dialect)) ? value : UNSUPPORTED_CONTROL;
    }

    private static boolean isSessionSetting(String sql, int q) {
        if (q < sql.length() && sql.charAt(q) == '@') return true; // a variable
        for (String setting : H2_SESSION_SETTINGS) {
            if (word(sql, q, setting)) return true;
        }
        return false;
    }

    /** DECLARE LOCAL|GLOBAL TEMPORARY TABLE (H2, DB2): a table, not the start of a procedural block. */
    private static boolean declaresTemporaryTable(String sql, int p, Dialect dialect) {
        if (!word(sql, p, "DECLARE")) return false;
        int q = next(sql, p, 7, dialect);
        if (!word(sql, q, "LOCAL") && !word(sql, q, "GLOBAL")) return false;
        return word(sql, next(sql, q, 5, dialect), "TEMPORARY"); // LOCAL and GLOBAL are both 5 letters
    }

    private static final String[] CURSOR_OPTIONS = {"BINARY", "ASENSITIVE", "INSENSITIVE", "NO", "SCROLL"};

    /**
     * PostgreSQL's DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR ...: a statement,
     * where Oracle's DECLARE starts a block (its declarations name a type after the name, never CURSOR).
     */
    private static boolean declaresCursor(String sql, int p, Dialect dialect) {
        int q = skipIdentifier(sql, next(sql, p, 7, dialect));
        for (boolean more = true; more; ) {
            q = skipSpaceAndComments(sql, q, dialect);
            more = false;
            for (String option : CURSOR_OPTIONS) {
                if (word(sql, q, option)) {
                    q += option.length();
                    more = true;
                    break;
                }
            }
        }
        return word(sql, q, "CURSOR");
    }

    /** Past a plain or double-quoted identifier at q. */
    private static int skipIdentifier(String sql, int q) {
        int n = sql.length();
        if (q < n && sql.charAt(q) == '"') return endOfQuoted(sql, q, '"', false);
        while (q < n && isIdentifierPart(sql.charAt(q))) q++;
        return q;
    }

    /** Whether the statement at p is a procedural block whose body may hold ';'. */
    private static boolean startsBlock(String sql, int p, Dialect dialect) {
        if (word(sql, p, "BEGIN")) return classifyBegin(sql, next(sql, p, 5, dialect), dialect) == OTHER;
        if (word(sql, p, "DECLARE")) return !declaresTemporaryTable(sql, p, dialect) && !declaresCursor(sql, p, dialect);
        if (!word(sql, p, "CREATE")) return false;
        int q = next(sql, p, 6, dialect);
        if (word(sql, q, "OR")) q = next(sql, next(sql, q, 2, dialect), 7, dialect); // OR REPLACE
        if (word(sql, q, "DEFINER")) return true; // MariaDB: CREATE DEFINER=... PROCEDURE
        return word(sql, q, "FUNCTION") || word(sql, q, "PROCEDURE") || word(sql, q, "TRIGGER")
                || word(sql, q, "PACKAGE") || word(sql, q, "EVENT") || word(sql, q, "TYPE");
    }

    private static int next(String sql, int p, int wordLength, Dialect dialect) {
        return skipSpaceAndComments(sql, p + wordLength, dialect);
    }

    private static boolean atEnd(String sql, int p) {
        return p >= sql.length() || sql.charAt(p) == ';';
    }

    /**
     * A keyword (upper-case ASCII) at p, in any case, not followed by an identifier character. Compared by
     * hand: String.regionMatches ignoring case cost about 5 ns even when the second letter already differed,
     * and execute(String) runs a comparison or two on every call.
     */
    static boolean word(String sql, int p, String keyword) {
        int length = keyword.length();
        int end = p + length;
        if (p < 0 || end > sql.length()) return false;
        for (int i = 0; i < length; i++) {
            char c = sql.charAt(p + i);
            char k = keyword.charAt(i);
            if (c != k && (c < 'a' || c > 'z' || c - ('a' - 'A') != k)) return false;
        }
        return end == sql.length() || !isIdentifierPart(sql.charAt(end));
    }

    /**
     * How txguard's messages quote a statement: its first words (keywords and names, up to six), stopping at the
     * first thing that is not a word (a literal, a number, a parameter, a parenthesis), so that no value the
     * statement carries is repeated: {@code 'CREATE TABLE orders …'}, never a row's values.
     */
    static String leadingWords(String sql, Dialect dialect) {
        int n = sql.length();
        int p = skipSpaceAndComments(sql, 0, dialect);
        StringBuilder words = new StringBuilder();
        for (int count = 0; count < 6 && p < n && Character.isLetter(sql.charAt(p)); count++) {
            int end = p;
            while (end < n && (isIdentifierPart(sql.charAt(end)) || sql.charAt(end) == '.')) end++;
            if (words.length() > 0) words.append(' ');
            words.append(sql, p, end);
            p = skipSpaceAndComments(sql, end, dialect);
        }
        boolean more = p < n && !sql.substring(p).trim().equals(";");
        return "'" + words + (more ? (words.length() > 0 ? " …'" : "…'") : "'");
    }

    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    static int skipSpaceAndComments(String sql, int p, Dialect dialect) {
        int n = sql.length();
        while (p < n) {
            char c = sql.charAt(p);
            if (Character.isWhitespace(c)) {
                p++;
            } else if (c == '-' && p + 1 < n && sql.charAt(p + 1) == '-') {
                p = endOfLine(sql, p);
            } else if (c == '#' && dialect.hashComments) {
                p = endOfLine(sql, p);
            } else if (c == '/' && p + 1 < n && sql.charAt(p + 1) == '*') {
                int code = executableCommentCode(sql, p, dialect);
                p = code >= 0 ? code : endOfBlockComment(sql, p, dialect);
            } else if (c == '*' && dialect.executableComments && p + 1 < n && sql.charAt(p + 1) == '/') {
                p += 2; // the end of an executable comment
            } else {
                return p;
            }
        }
        return n;
    }

    /**
     * Where the code of an executable comment at p starts ({@code /*!40101 }, {@code /*M!100100 }: after the
     * version), or -1 when p starts an ordinary comment.
     */
    private static int executableCommentCode(String sql, int p, Dialect dialect) {
        if (!dialect.executableComments) return -1;
        int q = p + 2;
        if (sql.startsWith("M!", q)) q += 2;
        else if (sql.startsWith("!", q)) q += 1;
        else return -1;
        while (q < sql.length() && Character.isDigit(sql.charAt(q))) q++;
        return q;
    }

    private static int endOfLine(String sql, int p) {
        int eol = sql.indexOf('\n', p);
        return eol < 0 ? sql.length() : eol + 1;
    }

    private static int endOfBlockComment(String sql, int p, Dialect dialect) {
        int n = sql.length();
        int depth = 1;
        p += 2;
        while (p < n) {
            if (sql.startsWith("*/", p)) {
                p += 2;
                if (--depth == 0 || !dialect.nestedComments) return p;
            } else if (dialect.nestedComments && sql.startsWith("/*", p)) {
                depth++;
                p += 2;
            } else {
                p++;
            }
        }
        return n; // unterminated: the rest is comment
    }

    /** Offset of the ';' that ends the statement starting at p (or the string's end). */
    private static int endOfStatement(String sql, int p, Dialect dialect) {
        int n = sql.length();
        while (p < n) {
            char c = sql.charAt(p);
            if (c == ';') return p;
            if (c == '[' && dialect.bracketIdentifiers) {
                int close = sql.indexOf(']', p + 1);
                p = close < 0 ? n : close + 1;
            } else if (c == '\'' || c == '"' || (c == '`' && dialect.backtickIdentifiers)) {
                boolean backslash = dialect.backslashEscapes && c != '`'
                        || c == '\'' && p > 0 && (sql.charAt(p - 1) == 'E' || sql.charAt(p - 1) == 'e');
                p = endOfQuoted(sql, p, c, backslash);
            } else if (c == '$' && dialect.dollarQuotes && (p == 0 || !isIdentifierPart(sql.charAt(p - 1)))) {
                p = endOfDollarQuoted(sql, p);
            } else if ((c == '-' && p + 1 < n && sql.charAt(p + 1) == '-') || (c == '#' && dialect.hashComments)) {
                p = endOfLine(sql, p);
            } else if (c == '/' && p + 1 < n && sql.charAt(p + 1) == '*' && executableCommentCode(sql, p, dialect) < 0) {
                p = endOfBlockComment(sql, p, dialect);
            } else {
                p++;
            }
        }
        return n;
    }

    private static int endOfQuoted(String sql, int p, char quote, boolean backslashEscapes) {
        int n = sql.length();
        p++;
        while (p < n) {
            char c = sql.charAt(p);
            if (backslashEscapes && c == '\\') {
                p += 2;
            } else if (c == quote) {
                if (p + 1 < n && sql.charAt(p + 1) == quote) p += 2; // doubled quote
                else return p + 1;
            } else {
                p++;
            }
        }
        return n; // unterminated: the rest is inside the literal
    }

    private static int endOfDollarQuoted(String sql, int p) {
        int n = sql.length();
        int tagEnd = p + 1;
        while (tagEnd < n && (Character.isLetter(sql.charAt(tagEnd)) || sql.charAt(tagEnd) == '_'
                || (tagEnd > p + 1 && Character.isDigit(sql.charAt(tagEnd))))) {
            tagEnd++;
        }
        if (tagEnd >= n || sql.charAt(tagEnd) != '$') return p + 1; // $1 parameter or a lone '$'
        int tagLength = tagEnd + 1 - p;
        int close = p + tagLength;
        while (true) {
            close = sql.indexOf('$', close);
            if (close < 0) return n;
            if (sql.regionMatches(close, sql, p, tagLength)) return close + tagLength;
            close++;
        }
    }
}
